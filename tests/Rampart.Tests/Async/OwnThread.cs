namespace Rampart.Tests.Async;

/// <summary>Runs a test's body on a thread of its own: what a thread keeps (its pooled objects) is its own.</summary>
internal static class OwnThread
{
    public static T Run<T>(Func<T> body)
    {
        var result = default(T);
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = body();
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        });
        thread.Start();
        thread.Join();
        return failure is null ? result! : throw new InvalidOperationException("the thread failed", failure);
    }
}
