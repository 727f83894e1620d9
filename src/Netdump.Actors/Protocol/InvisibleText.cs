using System.Globalization;

namespace Netdump.Actors.Protocol;

/// <summary>
/// Characters a client can put in its text that show nothing themselves and change how the rest
/// is shown: Unicode's format characters (U+202E RIGHT-TO-LEFT OVERRIDE and the other bidi
/// controls, U+200B ZERO WIDTH SPACE, U+FEFF). A log line, a listing or a directory name with a
/// right-to-left override reads backwards from there: what an operator reads would not be what is
/// stored. They are dropped from text shown on one line and refused in a HERALD path.
/// </summary>
public static class InvisibleText
{
    public static bool IsFormat(char c) => CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format;

    /// <summary>A character client text never brings to a line or a name: a control character, or an invisible format one.</summary>
    public static bool IsUnsafe(char c) => char.IsControl(c) || IsFormat(c);
}
