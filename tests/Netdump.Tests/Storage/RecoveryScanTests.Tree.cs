using Netdump.Actors.Storage;

namespace Netdump.Tests.Storage;

/// <summary>Where the start-up scan looks: under HERALD paths, never through links or into the server's own folders, nested, and how deep.</summary>
public sealed partial class RecoveryScanTests
{
    [Fact]
    public void RecoveryScan_should_find_a_dump_under_a_herald_path()
    {
        var parent = Path.Combine(DumpDir, "fleet", "web");
        Directory.CreateDirectory(parent);
        var dir = ReceivingDump(parent, Pattern(100), heraldPath: "fleet/web");

        var results = RecoveryScan.Run(DumpDir, Now);

        Assert.Equal([new RecoveredDump(dir, null)], results);
        var json = Json(dir);
        Assert.Equal("incomplete", json.GetProperty("status").GetString());
        Assert.Equal("fleet/web", json.GetProperty("herald_path").GetString());
    }

    [Fact]
    public void RecoveryScan_should_take_the_herald_path_from_the_place_of_a_dump_without_dump_json()
    {
        var dir = Path.Combine(DumpDir, "fleet", "192.0.2.7-2024-03-09-14:05:07");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, CoreFileNames.Incomplete), []);

        RecoveryScan.Run(DumpDir, Now);

        Assert.Equal("fleet", Json(dir).GetProperty("herald_path").GetString());
    }

    [Fact]
    public void RecoveryScan_should_not_follow_a_symlink_out_of_the_dump_directory()
    {
        var outside = _temp.Combine("elsewhere");
        Directory.CreateDirectory(outside);
        var dir = ReceivingDump(outside, Pattern(100));
        Directory.CreateSymbolicLink(Path.Combine(DumpDir, "link"), outside);
        Directory.CreateSymbolicLink(Path.Combine(DumpDir, "dumplink"), dir);
        var before = Snapshot(outside);

        var results = RecoveryScan.Run(DumpDir, Now);

        Assert.Empty(results);
        Assert.Equal(before, Snapshot(outside));
        Assert.Equal("receiving", Json(dir).GetProperty("status").GetString());
    }

    [Fact]
    public void RecoveryScan_should_keep_a_complete_dumps_checksum_and_take_last_links_for_neither_dumps_nor_paths()
    {
        var complete = FinishedDump(DumpStatus.Complete, "vmcore", reason: null);
        DumpReport.Write(ReportOf(complete) with { Sha256 = new string('a', 64) });
        var receiving = ReceivingDump(DumpDir, Pattern(100));
        LastLinks.Point(DumpDir, "done.example.org.last", complete);
        LastLinks.Point(DumpDir, "busy.example.org.last", receiving);
        var before = File.ReadAllText(Path.Combine(complete, DumpReport.JsonFileName));

        var results = RecoveryScan.Run(DumpDir, Now);

        Assert.Equal([new RecoveredDump(receiving, null)], results); // once, by its own name
        Assert.Equal(before, File.ReadAllText(Path.Combine(complete, DumpReport.JsonFileName)));
        Assert.Equal(new string('a', 64), Json(complete).GetProperty("sha256").GetString());
        Assert.Equal(Path.GetFileName(receiving), new FileInfo(Path.Combine(DumpDir, "busy.example.org.last")).LinkTarget);
    }

    /// <summary>No dump may be made in the server's own folders (DumpLocation refuses them), so none is looked for.</summary>
    [Fact]
    public void RecoveryScan_should_ignore_the_servers_own_folders()
    {
        foreach (var folder in new[] { "scripts", "magic", "lost+found", ".snapshot" })
        {
            var parent = Path.Combine(DumpDir, folder);
            Directory.CreateDirectory(parent);
            ReceivingDump(parent, Pattern(10));
        }

        var before = Snapshot(DumpDir);

        var results = RecoveryScan.Run(DumpDir, Now);

        Assert.Empty(results);
        Assert.Equal(before, Snapshot(DumpDir));
    }

    /// <summary>An older server let a HERALD path lead into another dump's directory.</summary>
    [Fact]
    public void RecoveryScan_should_find_a_dump_nested_in_another_dump()
    {
        var outer = ReceivingDump(DumpDir, Pattern(10));
        var inner = ReceivingDump(outer, Pattern(20));
        var innermost = ReceivingDump(inner, Pattern(30));

        var results = RecoveryScan.Run(DumpDir, Now);

        Assert.Equal([new RecoveredDump(outer, null), new RecoveredDump(inner, null), new RecoveredDump(innermost, null)], results);
        Assert.Equal("incomplete", Json(inner).GetProperty("status").GetString());
        Assert.Equal(Pattern(20), File.ReadAllBytes(Path.Combine(inner, CoreFileNames.Incomplete)));
    }

    [Fact]
    public void RecoveryScan_should_not_loop_through_a_symlink_to_a_parent()
    {
        var fleet = Directory.CreateDirectory(Path.Combine(DumpDir, "fleet")).FullName;
        Directory.CreateSymbolicLink(Path.Combine(fleet, "up"), DumpDir);
        Directory.CreateSymbolicLink(Path.Combine(fleet, "self"), ".");
        var dir = ReceivingDump(fleet, Pattern(10));

        var results = RecoveryScan.Run(DumpDir, Now);

        Assert.Equal([new RecoveredDump(dir, null)], results);
    }

    [Fact]
    public void RecoveryScan_should_search_at_most_MaxDepth_levels_down()
    {
        var deepest = Path.Combine([DumpDir, .. Enumerable.Repeat("d", DumpTree.MaxDepth - 1)]);
        Directory.CreateDirectory(Path.Combine(deepest, "d"));
        var found = ReceivingDump(deepest, Pattern(10));
        var tooDeep = ReceivingDump(Path.Combine(deepest, "d"), Pattern(10));

        var results = RecoveryScan.Run(DumpDir, Now);

        Assert.Equal([new RecoveredDump(found, null)], results);
        Assert.Equal("receiving", Json(tooDeep).GetProperty("status").GetString());
    }

    [Fact]
    public void RecoveryScan_should_name_a_folder_deeper_than_PATH_MAX_once_and_go_on()
    {
        // 25 levels of 200 characters: about the 21st is the first whose path passes PATH_MAX
        var name = new string('d', 199) + "\u001b"; // and an escape the log line must not pass on
        string? shallow = null;
        var chain = DeepTree.Make(Path.Combine(DumpDir, "0-deep-tree"), name, 25, (level, folder) =>
        {
            // a dump the writer left at level 5 (its path is short enough), and one at level 24
            if (level is 5 or 24)
            {
                var dump = Path.GetFileName(ReceivingDump(folder, Pattern(10)));
                shallow = level == 5 ? dump : shallow;
            }
        });
        var tooDeep = chain.First(c => System.Text.Encoding.UTF8.GetByteCount(c) >= DumpTree.PathMax);
        var beside = ReceivingDump(DumpDir, Pattern(10)); // after the tree in the walk's order
        try
        {
            var results = RecoveryScan.Run(DumpDir, Now);

            // the folders below the first too deep are not named again: one line, and the scan goes on
            Assert.Equal(3, results.Count);
            Assert.Equal(new RecoveredDump(Path.Combine(chain[5], shallow!), null), results[0]);
            var line = results[1];
            Assert.Equal(beside, results[2].Directory);
            Assert.Null(results[2].Problem);
            Assert.Equal(
                $"its path is {System.Text.Encoding.UTF8.GetByteCount(tooDeep)} bytes long, longer than a path may be (PATH_MAX, 4096 bytes): "
                + "nothing in it can be opened by its path, so it is not searched; left alone",
                line.Problem);
            // as much of it as is printable: its start and its end, the escape shown as '?'
            Assert.StartsWith(Path.Combine(DumpDir, "0-deep-tree", new string('d', 199) + "?"), line.Directory);
            Assert.EndsWith("/" + new string('d', 199) + "?", line.Directory);
            Assert.Contains("…", line.Directory);
            Assert.DoesNotContain(line.Directory, char.IsControl);
            Assert.True(line.Directory.Length <= 1024);
        }
        finally
        {
            DeepTree.Remove(chain[0]);
        }
    }
}
