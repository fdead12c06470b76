// End-to-end tests start real servers and drive real load on a 2-core machine: one at a time,
// so that one test's load does not starve another's probes and timeouts.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
