# fresh_fs.sh, sourced by the bench scripts: a new, empty file system for one measurement.
#
#   fresh_fs DIR        mounts a freshly made ext4 at DIR (created if missing), or leaves DIR
#                       a plain directory when it cannot (not root, no mkfs.ext4): returns 1 then
#   fresh_fs_done DIR   unmounts it and removes its image (nothing for a plain directory)
#
# Why: on ext4 without a journal (this machine's root file system), a new inode is not taken
# from those freed in the last 60 s (360 s while their inode table block is dirty); each
# allocation scans past them (`recently_deleted` in the kernel). A bench that deletes a run's
# thousands of dump files and starts the next run in the same directory makes every file the
# next run creates pay that scan: the HERALD-to-ack p99 of 128 clients measured 300-700 ms on
# /tmp after a few runs, and 100-125 ms on a fresh file system (docs/performance.md, "Crash
# storms"). A collector's dump file system sees a few deletions an hour (retention), not
# thousands a minute, so each measurement gets a file system of its own, made as the root one
# is (no journal, mounted with discard), the same for both servers. FRESH_FS=0 measures in
# place instead.
FRESH_FS_SIZE=${FRESH_FS_SIZE:-32G} # sparse: only what is written takes room, in /var/tmp

fresh_fs() {
	local dir=$1 image
	mkdir -p "$dir"
	[ "${FRESH_FS:-1}" = 1 ] && [ "$(id -u)" = 0 ] && command -v mkfs.ext4 > /dev/null || return 1
	image=$(mktemp /var/tmp/netdump-bench-fs.XXXXXX) || return 1
	if truncate -s "$FRESH_FS_SIZE" "$image" && mkfs.ext4 -q -F -O ^has_journal "$image" \
	    && mount -o loop,discard "$image" "$dir"; then
		echo "$image" > "$dir.image"
		return 0
	fi
	rm -f "$image"
	return 1
}

fresh_fs_done() {
	local dir=$1
	[ -f "$dir.image" ] || return 0
	if ! umount "$dir"; then
		echo "fresh_fs: $dir is still mounted (a process still has files open there); unmount it and remove $(cat "$dir.image")" >&2
		return 1
	fi
	rm -f "$(cat "$dir.image")" "$dir.image"
}

# fresh_fs_room MIB: whether /var/tmp can hold MIB MiB of dumps in an image (with a fifth spare)
fresh_fs_room() {
	local avail
	avail=$(df --output=avail -m /var/tmp 2> /dev/null | tail -1)
	[ -n "$avail" ] && [ "$avail" -gt $(($1 + $1 / 5)) ]
}
