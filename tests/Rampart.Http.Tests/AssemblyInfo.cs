// Real servers and real load on a 2-core machine: one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
