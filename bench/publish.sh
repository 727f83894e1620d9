# publish.sh, sourced by the bench scripts: publish_server OUT builds netdump-server in Release
# into OUT and sets DLL; a failed build ends the script (exit 2).
#
# ReadyToRun where the runtime identifier is known: precompiled, so no dump pays for the JIT
# (0.93x the reference with one client against 0.82x JIT-compiled; docs/performance.md).
# Release's intermediate files are removed first: those of another kind of publish (a
# composite or a self-contained one, tried while measuring) once made a server that aborted
# at start.
export NUGET_CERT_REVOCATION_MODE=offline DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

publish_server() {
	local rid=
	case $(uname -m) in x86_64) rid=linux-x64 ;; aarch64) rid=linux-arm64 ;; esac
	rm -rf "$1" "$ROOT"/src/*/obj/Release "$ROOT"/src/*/bin/Release
	dotnet publish "$ROOT/src/Netdump.App" -c Release ${rid:+-r $rid -p:PublishReadyToRun=true} --self-contained false \
	    -o "$1" -v quiet -nologo > /dev/null || { echo "bench: the server's build failed" >&2; exit 2; }
	DLL=$1/netdump-server.dll
}
