using System.Globalization;

namespace Netdump.Actors.Storage;

/// <summary>
/// Sizes and rates for the log, in binary units with one decimal, written next to the raw byte
/// counts (<c>84911214592 bytes (79.1 GiB) free</c>): the raw number is what a script greps, the
/// unit is what a person reads.
/// </summary>
public static class ByteUnits
{
    private static readonly string[] Units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

    /// <summary><c>512 B</c>, <c>1.5 KiB</c>, <c>79.1 GiB</c>.</summary>
    public static string Size(ulong bytes)
    {
        if (bytes < 1024)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{bytes} B");
        }

        var value = (double)bytes;
        var unit = -1;
        while (value >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{value:F1} {Units[unit]}");
    }

    /// <summary>
    /// <c>227.5 MiB/s</c>; below 0.1 MiB/s in KiB/s (<c>85.3 KiB/s</c>), and below 0.1 KiB/s in
    /// B/s, so a slow dump never reads <c>0.0 MiB/s</c>.
    /// </summary>
    public static string Rate(double bytesPerSecond) => bytesPerSecond switch
    {
        >= 0.1 * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytesPerSecond / (1024 * 1024):F1} MiB/s"),
        >= 0.1 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytesPerSecond / 1024:F1} KiB/s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytesPerSecond:F0} B/s"),
    };
}
