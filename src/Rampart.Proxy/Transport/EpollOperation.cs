using System.Threading.Tasks.Sources;

namespace Rampart.Proxy.Transport;

/// <summary>A receive's or a send's wait on an <see cref="EpollSocket"/>: completed once, by whoever took <see cref="Waiting"/>.</summary>
internal sealed class EpollOperation : IValueTaskSource<int>, IValueTaskSource
{
    public int Waiting;
    public Memory<byte> Buffer;
    public ReadOnlyMemory<byte> Bytes;
    public int Sent;
    private ManualResetValueTaskSourceCore<int> _core;

    public short Version => _core.Version;

    public void Prepare(Memory<byte> buffer)
    {
        _core.Reset();
        Buffer = buffer;
    }

    public void Prepare(ReadOnlyMemory<byte> bytes, int sent)
    {
        _core.Reset();
        Bytes = bytes;
        Sent = sent;
    }

    public void Complete(int result)
    {
        (Buffer, Bytes) = (default, default);
        _core.SetResult(result);
    }

    public void Fail(Exception error)
    {
        (Buffer, Bytes) = (default, default);
        _core.SetException(error);
    }

    public int GetResult(short token) => _core.GetResult(token);

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
