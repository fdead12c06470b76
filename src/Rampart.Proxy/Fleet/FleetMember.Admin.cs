using StackExchange.Redis;

namespace Rampart.Proxy.Fleet;

// Operators' fleet-wide actions (?scope=fleet).
internal sealed partial class FleetMember
{
    /// <summary>
    /// Sends an operator's action to every other live replica (each journals it as "by admin on" this replica);
    /// false when Redis cannot carry it now.
    /// </summary>
    public bool Broadcast(string cluster, string destination, string action)
    {
        if (!Connected)
        {
            return false;
        }

        try
        {
            var command = new FleetAdmin(View.Self, cluster, destination, action).ToJson();
            _redis!.GetSubscriber().Publish(RedisChannel.Literal(_keys.Admin), command);
            Interlocked.Increment(ref _sent);
            return true;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            Degrade(ex.Message);
            return false;
        }
    }

    private void OnAdminMessage(RedisValue message)
    {
        if (FleetAdmin.Parse(message) is not { } command || command.Replica == View.Self || !Connected || !Admin.AdminActions.IsKnown(command.Action))
        {
            return;
        }

        Interlocked.Increment(ref _received);
        if (Find(new DestinationKey(command.Cluster, command.Destination)) is { } destination)
        {
            Admin.AdminActions.Apply(destination, command.Action, "admin on " + command.Replica);
        }

        Progressed?.Invoke();
    }
}
