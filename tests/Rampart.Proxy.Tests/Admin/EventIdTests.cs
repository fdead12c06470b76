using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Rampart.Proxy.Tests.Admin;

public sealed class EventIdTests
{
    [Fact]
    public void LogEventIds_AreUniqueAcrossTheAssemblies_AndInTheirFeatureRanges()
    {
        var assemblies = new[] { typeof(Rampart.Health.ActiveHealthProber).Assembly, typeof(RampartProxy).Assembly, typeof(Rampart.Host.Demo.DemoCommand).Assembly };
        var ids = assemblies
            .SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(m => (Method: $"{m.DeclaringType!.FullName}.{m.Name}", Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(x => x.Attribute is not null)
            .ToList();

        Assert.True(ids.Count >= 8, $"found only {ids.Count} log messages");
        var duplicates = ids.GroupBy(x => x.Attribute!.EventId).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(x => x.Method))}");
        Assert.Empty(duplicates);
        Assert.All(ids, x => Assert.InRange(x.Attribute!.EventId, 1000, 8999));
    }
}
