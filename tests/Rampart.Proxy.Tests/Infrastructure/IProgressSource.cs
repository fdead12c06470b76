namespace Rampart.Proxy.Tests.Infrastructure;

/// <summary>Something that says when it made progress (a request sent or served, a line logged), so that a test re-checks its condition then, never on a timer.</summary>
public interface IProgressSource
{
    event Action? Progressed;
}
