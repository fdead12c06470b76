namespace Rampart.Health;

/// <summary>How an active probe tests a destination.</summary>
public enum ProbeMode
{
    /// <summary>An HTTP GET of <see cref="ActiveHealthOptions.Path"/>; passes on an expected status (and body, when set).</summary>
    Http = 0,

    /// <summary>A TCP connect to the destination's host and port; passes when the connection opens.</summary>
    Tcp = 1,
}
