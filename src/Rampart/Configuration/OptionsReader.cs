using System.ComponentModel;
using System.Globalization;
using System.Reflection;

namespace Rampart.Configuration;

/// <summary>
/// Binds a configuration tree onto an options object, checking its shape on the way: every key must be a known
/// setting and every value must convert, so that a typo or a bad value is reported with its full key (all of them
/// at once) instead of being ignored or stopping at the first. A value that does not convert is reported once and
/// left at its default; <see cref="Masks"/> then keeps rules that read it from adding misleading follow-on errors.
/// </summary>
/// <remarks>Linear in the number of keys (the configuration binder walks sections at a cost quadratic in them).</remarks>
internal sealed class OptionsReader(List<string> errors)
{
    private readonly List<(string Section, string Name, string Path)> _unreadable = [];

    /// <summary>Binds <paramref name="node"/>'s children onto <paramref name="target"/>.</summary>
    public void Bind(ConfigurationTree node, object target)
    {
        var type = target.GetType();
        foreach (var child in node.Children)
        {
            var property = type.GetProperty(child.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null)
            {
                var known = string.Join(", ", type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name));
                errors.Add($"{child.Path} is not a known setting (known here: {known})");
                continue;
            }

            var current = property.GetValue(target);
            var value = Read(child, property.PropertyType, current);
            if (value is not null && !ReferenceEquals(value, current) && property.CanWrite)
            {
                property.SetValue(target, value);
            }
        }
    }

    /// <summary>Whether a validation error follows from a value that did not convert: it names that key, or a rule of its section that reads it.</summary>
    public bool Masks(string error) => _unreadable.Any(u =>
        error.StartsWith(u.Path, StringComparison.OrdinalIgnoreCase)
        || (error.StartsWith(u.Section + ":", StringComparison.OrdinalIgnoreCase) && error.Contains(u.Name, StringComparison.Ordinal)));

    // The value to store for node (a converted scalar, or existing filled in); null to leave the property as it is.
    private object? Read(ConfigurationTree node, Type type, object? existing)
    {
        if (IsScalar(type))
        {
            if (node.HasChildren)
            {
                errors.Add($"{node.Path} must be {Describe(type)}, not a section");
                return null;
            }

            if (node.Value is not { } text)
            {
                return null;
            }

            if (TryConvert(text, type, out var converted))
            {
                return converted;
            }

            errors.Add($"{node.Path} must be {Describe(type)} (was {text})");
            var cut = node.Path.LastIndexOf(':');
            _unreadable.Add((cut < 0 ? "" : node.Path[..cut], node.Key, node.Path));
            return null;
        }

        if (!node.HasChildren)
        {
            if (!string.IsNullOrEmpty(node.Value))
            {
                errors.Add($"{node.Path} must be a section, not a value (was {node.Value})");
            }

            return null;
        }

        if (ElementType(type, typeof(IDictionary<,>)) is { } valueType)
        {
            var dictionary = (System.Collections.IDictionary)(existing ?? Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(typeof(string), valueType), StringComparer.OrdinalIgnoreCase)!);
            foreach (var child in node.Children)
            {
                if (Element(child, valueType) is { } element)
                {
                    dictionary[child.Key] = element;
                }
            }

            return dictionary;
        }

        if (ElementType(type, typeof(IList<>)) is { } elementType)
        {
            var list = (System.Collections.IList)(existing ?? Activator.CreateInstance(typeof(List<>).MakeGenericType(elementType))!);
            var indexed = new List<(int Index, ConfigurationTree Node)>();
            foreach (var child in node.Children)
            {
                if (int.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                {
                    indexed.Add((index, child));
                }
                else
                {
                    errors.Add($"{child.Path} is not a list index: {node.Path} is a list");
                }
            }

            foreach (var (_, child) in indexed.OrderBy(i => i.Index))
            {
                if (Element(child, elementType) is { } element)
                {
                    list.Add(element);
                }
            }

            return list;
        }

        var instance = existing ?? Activator.CreateInstance(type)!;
        Bind(node, instance);
        return instance;
    }

    private object? Element(ConfigurationTree node, Type type) =>
        IsScalar(type) ? Read(node, type, null) : Read(node, type, Activator.CreateInstance(type));

    private static bool IsScalar(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(TimeSpan) || type == typeof(decimal);
    }

    private static bool TryConvert(string text, Type type, out object? value)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        value = null;
        if (type == typeof(string))
        {
            value = text;
            return true;
        }

        if (type == typeof(TimeSpan))
        {
            var ok = Durations.TryParse(text, out var duration);
            value = duration;
            return ok;
        }

        if (type.IsEnum)
        {
            return Enum.TryParse(type, text, ignoreCase: true, out value) && Enum.IsDefined(type, value!);
        }

        try
        {
            value = TypeDescriptor.GetConverter(type).ConvertFromInvariantString(text);
            return value is not null;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException or NotSupportedException)
        {
            return false;
        }
    }

    private static string Describe(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type switch
        {
            _ when type == typeof(TimeSpan) => Durations.Expected,
            _ when type == typeof(bool) => "true or false",
            _ when type == typeof(int) || type == typeof(long) => "a whole number",
            _ when type == typeof(double) => "a number",
            _ when type.IsEnum => "one of " + string.Join(", ", Enum.GetNames(type)),
            _ => "a " + type.Name,
        };
    }

    private static Type? ElementType(Type type, Type generic)
    {
        var match = type.IsGenericType && type.GetGenericTypeDefinition() == generic
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == generic);
        return match?.GetGenericArguments()[^1];
    }
}
