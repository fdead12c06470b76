using System.Collections;
using System.Collections.ObjectModel;
using System.Reflection;

namespace Rampart.Configuration;

/// <summary>
/// The one walk over an options tree (<see cref="FreezableOptions"/> objects, their nested options, lists and
/// dictionaries of them, and scalars): a deep copy, freezing into an immutable snapshot, and comparison by value.
/// </summary>
/// <remarks>Reflection, once per load or reload; never on the request path.</remarks>
internal static class OptionsTree
{
    /// <summary>
    /// The one validation of <paramref name="options"/> (every problem at once), then an immutable snapshot of them:
    /// frozen options are a snapshot already and are not validated again.
    /// </summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem, each naming its key.</exception>
    public static T Validated<T>(T options, Func<T, IReadOnlyList<string>> validate, string what)
        where T : FreezableOptions
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.IsFrozen)
        {
            return options;
        }

        var errors = validate(options);
        return errors.Count > 0
            ? throw new ArgumentException($"Invalid {what}: " + string.Join("; ", errors), nameof(options))
            : Snapshot(options);
    }

    /// <summary>An immutable snapshot of <paramref name="options"/>: the options themselves when already frozen, else a frozen deep copy.</summary>
    public static T Snapshot<T>(T options)
        where T : FreezableOptions
    {
        if (options.IsFrozen)
        {
            return options;
        }

        var copy = (T)Copy(options);
        Freeze(copy);
        return copy;
    }

    /// <summary>Freezes <paramref name="options"/> and everything under it in place: setters throw, lists and dictionaries become read-only.</summary>
    public static void Freeze(FreezableOptions options)
    {
        if (options.IsFrozen)
        {
            return;
        }

        foreach (var property in Properties(options.GetType()))
        {
            var value = property.GetValue(options);
            switch (value)
            {
                case FreezableOptions nested:
                    Freeze(nested);
                    break;
                case IDictionary dictionary:
                    foreach (var item in dictionary.Values)
                    {
                        FreezeItem(item);
                    }

                    Replace(property, options, ReadOnly(value, property.PropertyType));
                    break;
                case IList list and not Array:
                    foreach (var item in list)
                    {
                        FreezeItem(item);
                    }

                    Replace(property, options, ReadOnly(value, property.PropertyType));
                    break;
            }
        }

        options.MarkFrozen();
    }

    /// <summary>A deep copy of <paramref name="options"/>, not frozen.</summary>
    public static object Copy(object options)
    {
        var type = options.GetType();
        var copy = Activator.CreateInstance(type)!;
        foreach (var property in Properties(type))
        {
            var value = property.GetValue(options);
            switch (value)
            {
                case FreezableOptions nested:
                    property.SetValue(copy, Copy(nested));
                    break;
                case IDictionary dictionary:
                    var target = (IDictionary)property.GetValue(copy)!;
                    foreach (DictionaryEntry entry in dictionary)
                    {
                        target[entry.Key] = CopyItem(entry.Value);
                    }

                    break;
                case IList list and not Array:
                    var items = (IList)property.GetValue(copy)!;
                    foreach (var item in list)
                    {
                        items.Add(CopyItem(item));
                    }

                    break;
                default:
                    if (property.SetMethod is { IsPublic: true })
                    {
                        property.SetValue(copy, value);
                    }

                    break;
            }
        }

        return copy;
    }

    /// <summary>Whether <paramref name="a"/> and <paramref name="b"/> say the same thing, property by property, all the way down.</summary>
    public static bool Same(object? a, object? b)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }

        // Collections compare by content whatever their type (a snapshot's are read-only wrappers); anything else by type and value.
        return (a, b) switch
        {
            (IDictionary x, IDictionary y) => x.Count == y.Count && x.Keys.Cast<object>().All(k => y.Contains(k) && Same(x[k], y[k])),
            (IList x, IList y) => x.Count == y.Count && Enumerable.Range(0, x.Count).All(i => Same(x[i], y[i])),
            (null, _) or (_, null) => false,
            _ when a.GetType() != b.GetType() => false,
            (FreezableOptions, _) => Properties(a.GetType()).All(p => Same(p.GetValue(a), p.GetValue(b))),
            _ => a.Equals(b),
        };
    }

    private static IEnumerable<PropertyInfo> Properties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && p.Name != nameof(FreezableOptions.IsFrozen) && p.GetMethod is { IsPublic: true });

    private static void FreezeItem(object? item)
    {
        if (item is FreezableOptions options)
        {
            Freeze(options);
        }
    }

    private static object? CopyItem(object? item) => item is FreezableOptions options ? Copy(options) : item;

    private static void Replace(PropertyInfo property, object owner, object value)
    {
        var setter = property.GetSetMethod(nonPublic: true)
            ?? throw new InvalidOperationException($"{owner.GetType().Name}.{property.Name} needs a (private) setter to be frozen.");
        setter.Invoke(owner, [value]);
    }

    // IDictionary<string, T> becomes a ReadOnlyDictionary (same comparer, as a copy); IList<T> a ReadOnlyCollection.
    private static object ReadOnly(object collection, Type declared)
    {
        var arguments = declared.GetGenericArguments();
        if (arguments.Length == 2)
        {
            var inner = Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(arguments), collection, StringComparer.OrdinalIgnoreCase)!;
            return Activator.CreateInstance(typeof(ReadOnlyDictionary<,>).MakeGenericType(arguments), inner)!;
        }

        var list = Activator.CreateInstance(typeof(List<>).MakeGenericType(arguments), collection)!;
        return Activator.CreateInstance(typeof(ReadOnlyCollection<>).MakeGenericType(arguments), list)!;
    }
}
