using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

public sealed class ByteUnitsTests
{
    [Theory]
    [InlineData(0UL, "0 B")]
    [InlineData(1023UL, "1023 B")]
    [InlineData(1024UL, "1.0 KiB")]
    [InlineData(300_000UL, "293.0 KiB")]
    [InlineData(8_388_814UL, "8.0 MiB")]
    [InlineData(84_911_214_592UL, "79.1 GiB")]
    [InlineData(1UL << 40, "1.0 TiB")]
    [InlineData(ulong.MaxValue, "16.0 EiB")]
    public void Size_should_write_binary_units_with_one_decimal(ulong bytes, string expected) =>
        Assert.Equal(expected, ByteUnits.Size(bytes));

    [Theory]
    [InlineData(238_550_630.4, "227.5 MiB/s")]
    [InlineData(104_857.6, "0.1 MiB/s")]
    [InlineData(104_857.5, "102.4 KiB/s")]
    [InlineData(87_347.2, "85.3 KiB/s")]
    [InlineData(102.4, "0.1 KiB/s")]
    [InlineData(50, "50 B/s")]
    [InlineData(0, "0 B/s")]
    public void Rate_should_go_down_to_KiB_per_second_below_a_tenth_of_a_MiB(double bytesPerSecond, string expected) =>
        Assert.Equal(expected, ByteUnits.Rate(bytesPerSecond));
}
