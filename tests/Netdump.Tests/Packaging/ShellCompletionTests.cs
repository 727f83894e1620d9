namespace Netdump.Tests.Packaging;

/// <summary>
/// packaging/netdump-server.bash-completion, sourced into bash as bash-completion would: a Tab
/// after a partial word asks the program's <c>[suggest]</c> directive and offers what fits.
/// </summary>
public sealed class ShellCompletionTests
{
    [Theory]
    [InlineData("netdump-server --linux", "--linux-port")]
    [InlineData("netdump-server simulate --dia", "--dialect")]
    public void A_tab_completes_the_options_and_commands_of_the_program(string line, string offered)
    {
        // COMP_WORDS[0] is the command as typed; here the build's own program, by its path.
        var program = Path.Combine(Tool.AppBuildOutput, "netdump-server");
        var script = $"""
            source {Quoted(Tool.InRepository("packaging/netdump-server.bash-completion"))}
            COMP_LINE={Quoted(line)}
            COMP_POINT=${"{#COMP_LINE}"}
            read -ra COMP_WORDS <<< "$COMP_LINE"
            COMP_WORDS[0]={Quoted(program)}
            COMP_CWORD=$(( ${"{#COMP_WORDS[@]}"} - 1 ))
            _netdump_server
            echo "${"{COMPREPLY[*]}"}"
            """;

        Assert.Equal(offered, Tool.Check("bash", "-c", script).Trim());
    }

    private static string Quoted(string text) => "'" + text.Replace("'", "'\\''") + "'";
}
