# cpu.sh, sourced by the bench scripts: cpu PGID prints the CPU seconds (user + system) of a
# process group, from /proc.
cpu() { python3 -c 'import os,sys
pg=int(sys.argv[1]); t=0
for p in filter(str.isdigit, os.listdir("/proc")):
    try: f=open("/proc/%s/stat"%p).read().rsplit(")",1)[1].split()
    except OSError: continue
    if int(f[2])==pg: t+=int(f[11])+int(f[12])
print(t/os.sysconf("SC_CLK_TCK"))' "$1"; }
