#!/usr/bin/env bash
# Builds netdump-server_<version>-1_<arch>.deb with dpkg-deb: the server published
# framework-dependent (it needs the dotnet-runtime-10.0 package), its unit, sysusers.d and
# tmpfiles.d files, man pages, logrotate file, bash completion and a commented /etc/netdump.conf.
#
#   packaging/build-deb.sh [--from DIR] [--out DIR]
#
#   --from DIR  package DIR, an existing framework-dependent build or publish of src/Netdump.App
#               (the tests use the build's own output), instead of publishing Release with
#               ReadyToRun into a temporary directory
#   --out DIR   where the .deb goes (default: artifacts/ in the repository); its path is printed
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
from=""
out="$repo/artifacts"
while [ $# -gt 0 ]; do
    case "$1" in
        --from) from=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        *) echo "build-deb.sh: unknown argument $1 (see the comment at the top)" >&2; exit 1 ;;
    esac
done

command -v dpkg-deb >/dev/null || { echo "build-deb.sh: dpkg-deb is not installed (apt-get install dpkg)" >&2; exit 1; }

arch=$(dpkg --print-architecture)
case "$arch" in
    amd64) rid=linux-x64 ;;
    arm64) rid=linux-arm64 ;;
    *) echo "build-deb.sh: no .NET runtime identifier for Debian architecture $arch" >&2; exit 1 ;;
esac
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$repo/src/Netdump.App/Netdump.App.csproj")
debversion="$version-1"

work=$(mktemp -d /tmp/netdump-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT

if [ -z "$from" ]; then
    from="$work/publish"
    export NUGET_CERT_REVOCATION_MODE=${NUGET_CERT_REVOCATION_MODE:-offline}
    dotnet publish "$repo/src/Netdump.App" -c Release -r "$rid" --self-contained false \
        -p:PublishReadyToRun=true -o "$from" --nologo -v quiet >&2
fi
[ -x "$from/netdump-server" ] && [ -f "$from/netdump-server.dll" ] || {
    echo "build-deb.sh: $from holds no framework-dependent netdump-server (apphost and dll)" >&2; exit 1; }

root="$work/root"
lib="$root/usr/lib/netdump-server"
doc="$root/usr/share/doc/netdump-server"
install -d -m 0755 "$lib" "$root/usr/sbin" "$root/etc/logrotate.d" "$root/usr/lib/systemd/system" \
    "$root/usr/lib/sysusers.d" "$root/usr/lib/tmpfiles.d" "$root/usr/share/man/man5" \
    "$root/usr/share/man/man8" "$root/usr/share/bash-completion/completions" "$doc" "$root/DEBIAN"

# The program: what the build put out, minus what only a build needs (the host looks for the
# runtime in the usual places, /usr/share/dotnet or /usr/lib/dotnet). /usr/sbin/netdump-server
# is a relative link: the apphost finds its assemblies beside the file the link points to.
cp -R "$from"/. "$lib"/
rm -f "$lib"/*.runtimeconfig.dev.json
# Akka.DistributedData brings LightningDB's native library for every platform; its durable
# store is not used here (the fleet catalog is republished from each node's disk), and the
# other platforms' copies are not this package's architecture.
find "$lib/runtimes" -name liblmdb.so -not -path "*/runtimes/$rid/*" -delete 2>/dev/null || true
find "$lib/runtimes" -type d -empty -delete 2>/dev/null || true
find "$lib" -type d -exec chmod 0755 {} +
find "$lib" -type f -exec chmod 0644 {} +
chmod 0755 "$lib/netdump-server"
ln -s ../lib/netdump-server/netdump-server "$root/usr/sbin/netdump-server"

install -m 0644 "$repo/packaging/netdump.conf" "$root/etc/netdump.conf"
install -m 0644 "$repo/packaging/netdump-server.logrotate" "$root/etc/logrotate.d/netdump-server"
install -m 0644 "$repo/packaging/netdump-server.service" "$root/usr/lib/systemd/system/netdump-server.service"
install -m 0644 "$repo/packaging/netdump-server@.service" "$root/usr/lib/systemd/system/netdump-server@.service"
install -m 0644 "$repo/packaging/netdump-server.sysusers" "$root/usr/lib/sysusers.d/netdump-server.conf"
install -m 0644 "$repo/packaging/netdump-server.tmpfiles" "$root/usr/lib/tmpfiles.d/netdump-server.conf"
install -m 0644 "$repo/packaging/netdump-server.bash-completion" "$root/usr/share/bash-completion/completions/netdump-server"
gzip -9n < "$repo/docs/man/netdump-server.8" > "$root/usr/share/man/man8/netdump-server.8.gz"
gzip -9n < "$repo/docs/man/netdump.conf.5" > "$root/usr/share/man/man5/netdump.conf.5.gz"
install -m 0644 "$repo/packaging/debian/copyright" "$doc/copyright"
install -D -m 0644 "$repo/packaging/debian/lintian-overrides" "$root/usr/share/lintian/overrides/netdump-server"
install -m 0644 "$repo/packaging/README.md" "$doc/README.md"
install -m 0644 "$repo/docs/operations.md" "$doc/operations.md"
date=$(date -R -u ${SOURCE_DATE_EPOCH:+-d "@$SOURCE_DATE_EPOCH"})
printf 'netdump-server (%s) unstable; urgency=medium\n\n  * Built from the netdump-server repository by packaging/build-deb.sh.\n\n -- %s  %s\n' \
    "$debversion" "${DEB_MAINTAINER:-netdump-server maintainers <netdump-server@example.org>}" "$date" \
    | gzip -9n > "$doc/changelog.Debian.gz"
chmod 0644 "$root"/usr/share/man/man*/*.gz "$doc/changelog.Debian.gz"

for script in postinst prerm postrm; do
    install -m 0755 "$repo/packaging/debian/$script" "$root/DEBIAN/$script"
done
printf '/etc/netdump.conf\n/etc/logrotate.d/netdump-server\n' > "$root/DEBIAN/conffiles"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

# dotnet-runtime-10.0: the .NET runtime package of Microsoft's Debian and Ubuntu repositories
# and of Ubuntu's own archive (Debian's archive has none). The apphost itself links libc,
# libstdc++ and libgcc_s, which that package depends on as well. libzstd1: compress = zstd calls
# the system's libzstd (libzstd.so.1) for compression at rest.
cat > "$root/DEBIAN/control" <<CONTROL
Package: netdump-server
Version: $debversion
Architecture: $arch
Maintainer: ${DEB_MAINTAINER:-netdump-server maintainers <netdump-server@example.org>}
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: dotnet-runtime-10.0, libc6, libgcc-s1, libstdc++6, libzstd1
Suggests: logrotate
Section: admin
Priority: optional
Description: collector of kernel crash dumps sent over the network
 netdump-server receives the kernel memory of crashing machines over UDP and
 writes each dump to a directory of its own under /var/crash: FreeBSD clients
 of netdump(4) (dumpon -s), and RHEL 3/4 kernels with Red Hat's netdump module.
 .
 It runs as the netdump user under the hardened systemd unit netdump-server,
 with its settings in /etc/netdump.conf; see netdump-server(8) and
 netdump.conf(5).
CONTROL

install -d "$out"
deb="$out/netdump-server_${debversion}_$arch.deb"
dpkg-deb --root-owner-group -Zgzip --build "$root" "$deb" >/dev/null
echo "$deb"
