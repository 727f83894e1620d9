using System.Reflection;
using System.Reflection.Emit;
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
    public void Protocol_Storage_and_Ingest_use_no_actor_nor_an_actors_messages_or_names()
    {
        var offenders = PlainTypes()
            .SelectMany(t => UsedTypes(t).Where(IsActor).Select(used => $"{t.FullName} uses {used.FullName}"))
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

    [Fact]
    public void The_check_sees_what_method_bodies_use()
    {
        // the control: a session makes this message in a method body only (no field, parameter or local of its type)
        Assert.Contains(typeof(Netdump.Actors.ConcurrencyGuardActor.SlotUnusable), UsedTypes(typeof(Netdump.Actors.ClientSessionActor)));
    }

    private static IEnumerable<Type> PlainTypes() => typeof(MessageHeader).Assembly.GetTypes()
        .Where(t => PlainLayers.Any(layer => t.Namespace == layer || t.Namespace?.StartsWith(layer + ".", StringComparison.Ordinal) == true));

    /// <summary>An actor, or a type nested in one (its messages).</summary>
    private static bool IsActor(Type type) =>
        typeof(Akka.Actor.ActorBase).IsAssignableFrom(type) || (type.DeclaringType is { } owner && IsActor(owner));

    private static bool IsAkka(Type type) =>
        type.Assembly.GetName().Name?.StartsWith("Akka", StringComparison.Ordinal) == true
        || (type.IsGenericType && type.GetGenericArguments().Any(IsAkka))
        || (type.HasElementType && IsAkka(type.GetElementType()!));

    /// <summary>
    /// Every type in a type's signatures and method bodies: base, interfaces, fields, properties,
    /// parameters, returns, locals, and what the IL calls, reads, makes or casts to (a constant
    /// is compiled into its user and cannot be seen).
    /// </summary>
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

            foreach (var used in ReferencedTypes(method))
            {
                yield return used;
            }
        }
    }

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(op => op.Value);

    /// <summary>The types the tokens in a method's IL name: the member's declaring type, and a field's or method's type.</summary>
    private static IEnumerable<Type> ReferencedTypes(MethodBase method)
    {
        var il = method.GetMethodBody()?.GetILAsByteArray() ?? [];
        for (var i = 0; i < il.Length;)
        {
            var op = OpCodesByValue[il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i]];
            i += op.Size;
            if (op.OperandType is OperandType.InlineMethod or OperandType.InlineField or OperandType.InlineType or OperandType.InlineTok
                && Resolve(method, BitConverter.ToInt32(il, i)) is { } member)
            {
                switch (member)
                {
                    case Type type:
                        yield return type;
                        break;
                    case FieldInfo field:
                        yield return field.FieldType;
                        break;
                    case MethodInfo called:
                        yield return called.ReturnType;
                        break;
                }

                if (member.DeclaringType is { } owner)
                {
                    yield return owner;
                }
            }

            i += op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                _ => 4,
            };
        }
    }

    private static MemberInfo? Resolve(MethodBase method, int token)
    {
        try
        {
            return method.Module.ResolveMember(token,
                method.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments() : null,
                method.IsGenericMethod ? method.GetGenericArguments() : null);
        }
        catch (ArgumentException)
        {
            return null; // a token of another generic context: not one of ours to judge
        }
    }
}
