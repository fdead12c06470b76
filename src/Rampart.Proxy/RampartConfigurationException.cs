namespace Rampart.Proxy;

/// <summary>The <c>Rampart</c> configuration is invalid; <see cref="Errors"/> lists every problem, each naming its key.</summary>
public sealed class RampartConfigurationException : Exception
{
    /// <summary>Creates the exception with no listed problems.</summary>
    public RampartConfigurationException()
        : this([])
    {
    }

    /// <summary>Creates the exception with one problem.</summary>
    public RampartConfigurationException(string message)
        : this([message])
    {
    }

    /// <summary>Creates the exception with one problem and its cause.</summary>
    public RampartConfigurationException(string message, Exception innerException)
        : base("Invalid Rampart configuration: " + message, innerException) => Errors = [message];

    /// <summary>Creates the exception listing <paramref name="errors"/>.</summary>
    public RampartConfigurationException(IReadOnlyList<string> errors)
        : base("Invalid Rampart configuration:" + Environment.NewLine + string.Join(Environment.NewLine, (errors ?? []).Select(e => "  " + e))) =>
        Errors = errors ?? [];

    /// <summary>Every problem, each naming its key.</summary>
    public IReadOnlyList<string> Errors { get; }
}
