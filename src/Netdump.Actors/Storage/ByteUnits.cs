using System.Globalization;

namespace Netdump.Actors.Storage;

/// <summary>Sizes and rates in units a person reads at a glance (powers of 1024), for log lines and <c>info</c>.</summary>
public static class ByteUnits
{
    private static readonly string[] Units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

    /// <summary>"512 bytes", "1.5 KiB", "84.9 GiB": one decimal from KiB up.</summary>
    public static string Size(ulong bytes)
    {
        if (bytes < 1024)
        {
            return $"{bytes} bytes";
        }

        var value = (double)bytes;
        var unit = 0;
        while (value >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{value:F1} {Units[unit]}");
    }

    /// <summary>"12.3 MiB/s"; below 0.1 MiB/s in KiB/s ("51.2 KiB/s"), so that a slow client does not read "0.0 MiB/s".</summary>
    public static string Rate(ulong bytesPerSecond)
    {
        const double kib = 1024, mib = 1024 * 1024;
        return bytesPerSecond < 0.1 * mib
            ? string.Create(CultureInfo.InvariantCulture, $"{bytesPerSecond / kib:F1} KiB/s")
            : string.Create(CultureInfo.InvariantCulture, $"{bytesPerSecond / mib:F1} MiB/s");
    }
}
