using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Rampart.Proxy.Configuration;

/// <summary>
/// Checks a configuration section against the shape of an options type before binding: every key must be
/// a known setting and every value must convert, so that a typo or a bad duration is reported with its
/// full key (all of them at once) instead of being ignored or stopping at the first.
/// </summary>
internal static class ConfigurationShape
{
    public static void Check(IConfigurationSection section, Type type, List<string> errors)
    {
        var children = section.GetChildren().ToList();
        if (children.Count == 0)
        {
            if (section.Value is { } value && !IsScalar(type) && value.Length > 0)
            {
                errors.Add($"{section.Path} must be a section, not a value (was {value})");
            }
            else if (section.Value is { } text && IsScalar(type) && !Converts(text, type))
            {
                errors.Add($"{section.Path} must be {Describe(type)} (was {text})");
            }

            return;
        }

        if (IsScalar(type))
        {
            errors.Add($"{section.Path} must be {Describe(type)}, not a section");
            return;
        }

        if (ElementType(type, typeof(IDictionary<,>)) is { } valueType)
        {
            children.ForEach(child => Check(child, valueType, errors));
            return;
        }

        if (ElementType(type, typeof(IList<>)) is { } elementType)
        {
            foreach (var child in children)
            {
                if (!int.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    errors.Add($"{child.Path} is not a list index: {section.Path} is a list");
                }
                else
                {
                    Check(child, elementType, errors);
                }
            }

            return;
        }

        foreach (var child in children)
        {
            var property = type.GetProperty(child.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null)
            {
                var known = string.Join(", ", type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name));
                errors.Add($"{child.Path} is not a known setting (known here: {known})");
            }
            else
            {
                Check(child, property.PropertyType, errors);
            }
        }
    }

    private static bool IsScalar(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(TimeSpan) || type == typeof(decimal);
    }

    private static bool Converts(string text, Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(string))
        {
            return true;
        }

        if (type.IsEnum)
        {
            return Enum.TryParse(type, text, ignoreCase: true, out _);
        }

        try
        {
            return TypeDescriptor.GetConverter(type).ConvertFromInvariantString(text) is not null;
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
            _ when type == typeof(TimeSpan) => "a duration such as \"00:00:05\" or \"00:00:00.250\"",
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
