using System.Reflection;
using Netdump.Actors.Protocol;

namespace Netdump.Tests.Architecture;

/// <summary>
/// The layers under the actors stay free of Akka: the codec (Protocol/), the files (Storage/)
/// and the packet path (Ingest/) are plain .NET, tested without an actor system, and tell the
/// actors what happens through delegates (Ingest's ControlEvents). A grep would miss a type
/// brought in without a using; this looks at what the compiled types really use.
/// </summary>
public sealed class LayeringTests
{
    private static readonly string[] PlainLayers = ["Netdump.Actors.Protocol", "Netdump.Actors.Storage", "Netdump.Actors.Ingest"];

    [Fact]
    public void Protocol_Storage_and_Ingest_use_no_Akka_type()
    {
        var offenders = typeof(MessageHeader).Assembly.GetTypes()
            .Where(t => PlainLayers.Any(layer => t.Namespace == layer || t.Namespace?.StartsWith(layer + ".", StringComparison.Ordinal) == true))
            .SelectMany(t => UsedTypes(t).Where(IsAkka).Select(used => $"{t.FullName} uses {used.FullName}"))
            .Distinct()
            .ToList();

        Assert.True(offenders.Count == 0, string.Join("\n", offenders));
    }

    [Fact]
    public void The_check_sees_an_Akka_type_where_there_is_one()
    {
        // the control: an actor, outside the plain layers, is found using Akka
        Assert.Contains(UsedTypes(typeof(Netdump.Actors.ClientSessionActor)), IsAkka);
    }

    private static bool IsAkka(Type type) =>
        type.Assembly.GetName().Name?.StartsWith("Akka", StringComparison.Ordinal) == true
        || (type.IsGenericType && type.GetGenericArguments().Any(IsAkka))
        || (type.HasElementType && IsAkka(type.GetElementType()!));

    /// <summary>Every type in a type's signatures and method bodies' locals: base, interfaces, fields, properties, parameters, returns.</summary>
    private static IEnumerable<Type> UsedTypes(Type type)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        if (type.BaseType is { } baseType)
        {
            yield return baseType;
        }

        foreach (var used in type.GetInterfaces())
        {
            yield return used;
        }

        foreach (var field in type.GetFields(all))
        {
            yield return field.FieldType;
        }

        foreach (var property in type.GetProperties(all))
        {
            yield return property.PropertyType;
        }

        foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
        {
            if (method is MethodInfo info)
            {
                yield return info.ReturnType;
            }

            foreach (var parameter in method.GetParameters())
            {
                yield return parameter.ParameterType;
            }

            foreach (var local in method.GetMethodBody()?.LocalVariables ?? [])
            {
                yield return local.LocalType;
            }
        }
    }
}
