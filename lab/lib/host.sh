# shellcheck shell=bash
# Host side of the lab, sourced by lab/run and lab/shell: fetch Debian's cloud
# kernel, build the cached base initramfs and the per-run one, boot qemu.
#
# Layout under the build directory (${LVSD_BUILD_DIR:-<repo>/build}):
#   lab/cache/debs/              downloaded kernel packages
#   lab/cache/kernel/PKG/        the extracted package (+ depmod), .stamp = version
#   lab/cache/labnet             the guest traffic tool, statically linked
#   lab/cache/base-HASH.cpio     busybox + modules + tools + libraries (cached)
#   lab/logs/*.log               one console log per boot; lab/last.log -> newest
#   lab/tmp/                     per-run scratch (removed afterwards)

LAB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_REPO=$(cd "$LAB_SRC/.." && pwd)
LAB_BUILD=${LVSD_BUILD_DIR:-$LAB_REPO/build}
LAB_DIR=$LAB_BUILD/lab
# LVSD_LAB_CACHE may point several build directories at one cache.
LAB_CACHE=${LVSD_LAB_CACHE:-$LAB_DIR/cache}
LAB_KERNEL_META=${LVSD_LAB_KERNEL_META:-linux-image-cloud-amd64}

export PATH="$PATH:/usr/sbin:/sbin"

lab_log() { echo "lab: $*" >&2; }
# Infrastructure failure (cannot fetch, build or boot): exit 2. A lab that
# cannot run is a failure, never a skip.
lab_die() {
  echo "lab: error: $*" >&2
  exit 2
}

lab_need() {
  local cmd=$1 pkg=$2
  command -v "$cmd" >/dev/null 2>&1 || lab_die "'$cmd' not found; install Debian package '$pkg' (scripts/bootstrap does)"
}

lab_check_host() {
  lab_need qemu-system-x86_64 qemu-system-x86
  lab_need busybox busybox-static
  lab_need depmod kmod
  lab_need modprobe kmod
  lab_need cpio cpio
  lab_need apt-get apt
  lab_need dpkg-deb dpkg
  lab_need flock util-linux
  lab_need timeout coreutils
  lab_need cc build-essential
  lab_need ldd libc-bin
  if ldd "$(command -v busybox)" >/dev/null 2>&1; then
    lab_die "$(command -v busybox) is dynamically linked; the guest needs busybox-static"
  fi
}

# Serialise cache updates between concurrent runs (ctest -j).
lab_lock() {
  mkdir -p "$LAB_DIR"
  exec 9>"$LAB_DIR/.lock"
  flock -w 900 9 || lab_die "timed out waiting for $LAB_DIR/.lock"
}
lab_unlock() { flock -u 9; }

# --- kernel -----------------------------------------------------------------
# Sets LAB_KPKG LAB_KVER LAB_KROOT LAB_VMLINUZ.
lab_kernel() {
  LAB_KPKG=${LVSD_LAB_KERNEL_PKG:-}
  if [[ -z $LAB_KPKG ]]; then
    # apt-cache takes seconds; its answer only changes when the package
    # lists do (apt-get update), so remember it until then.
    local resolved=$LAB_CACHE/kernel/resolved
    if [[ -f $resolved && $resolved -nt /var/lib/apt/lists && $(cut -d' ' -f1 "$resolved") == "$LAB_KERNEL_META" ]]; then
      LAB_KPKG=$(cut -d' ' -f2 "$resolved")
    else
      LAB_KPKG=$(apt-cache depends "$LAB_KERNEL_META" 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
      [[ -n $LAB_KPKG ]] ||
        lab_die "apt-cache knows no kernel that $LAB_KERNEL_META depends on; run 'apt-get update'"
      mkdir -p "$LAB_CACHE/kernel"
      echo "$LAB_KERNEL_META $LAB_KPKG" >"$resolved"
    fi
  fi
  LAB_KROOT=$LAB_CACHE/kernel/$LAB_KPKG
  if [[ ! -f $LAB_KROOT/.stamp ]]; then
    lab_log "fetching $LAB_KPKG (the kernel $LAB_KERNEL_META depends on)"
    mkdir -p "$LAB_CACHE/debs"
    local deb
    deb=$(find "$LAB_CACHE/debs" -maxdepth 1 -name "${LAB_KPKG}_*.deb" | sort | tail -n 1)
    if [[ -z $deb ]]; then
      (cd "$LAB_CACHE/debs" && apt-get download -q "$LAB_KPKG") ||
        lab_die "apt-get download $LAB_KPKG failed"
      deb=$(find "$LAB_CACHE/debs" -maxdepth 1 -name "${LAB_KPKG}_*.deb" | sort | tail -n 1)
      [[ -n $deb ]] || lab_die "apt-get download $LAB_KPKG produced no .deb"
    fi
    local tmp=$LAB_KROOT.tmp.$$
    rm -rf "$tmp"
    mkdir -p "$tmp"
    dpkg-deb -x "$deb" "$tmp" || lab_die "dpkg-deb -x $deb failed"
    local kvers
    kvers=$(ls "$tmp/lib/modules")
    [[ -n $kvers && $(wc -w <<<"$kvers") -eq 1 ]] || lab_die "$deb: expected one module tree, found: '$kvers'"
    [[ -f $tmp/boot/vmlinuz-$kvers ]] || lab_die "$deb has no /boot/vmlinuz-$kvers"
    ls "$tmp/lib/modules/$kvers/kernel/net/netfilter/ipvs/ip_vs.ko"* >/dev/null 2>&1 ||
      lab_die "$deb ships no ip_vs module"
    depmod -b "$tmp" "$kvers" || lab_die "depmod -b $tmp $kvers failed"
    echo "$kvers" >"$tmp/.stamp"
    rm -rf "$LAB_KROOT"
    mv "$tmp" "$LAB_KROOT"
  fi
  LAB_KVER=$(cat "$LAB_KROOT/.stamp")
  LAB_VMLINUZ=$LAB_KROOT/boot/vmlinuz-$LAB_KVER
}

# --- guest traffic tool -------------------------------------------------------
lab_labnet() {
  local src=$LAB_SRC/guest/labnet.c out=$LAB_CACHE/labnet
  local flags="-O2 -static -Wall -Wextra -Werror"
  local want
  want=$( (echo "$flags"; cat "$src") | sha256sum | cut -c1-64)
  if [[ ! -x $out || ! -f $out.hash || $(cat "$out.hash") != "$want" ]]; then
    mkdir -p "$LAB_CACHE"
    # shellcheck disable=SC2086
    cc $flags -o "$out.tmp" "$src" || lab_die "building labnet failed (static glibc: package libc6-dev)"
    mv "$out.tmp" "$out"
    echo "$want" >"$out.hash"
  fi
  LAB_LABNET=$out
}

# --- files for the image ------------------------------------------------------
# Guest path for a host library path: Debian is /usr-merged, and so is the guest
# (/lib -> usr/lib), but the per-run archive must never contain top-level
# entries that are symlinks in the base archive.
lab_guest_path() {
  case $1 in
  /lib/* | /lib64/* | /bin/* | /sbin/*) echo "/usr$1" ;;
  *) echo "$1" ;;
  esac
}

# Shared libraries (and the ELF interpreter) a program needs, one per line.
lab_libs_of() {
  local out
  if ! out=$(ldd "$1" 2>&1); then
    grep -q "not a dynamic executable" <<<"$out" && return 0
    lab_die "ldd $1: $out"
  fi
  if grep -q "not found" <<<"$out"; then
    lab_die "ldd $1: missing libraries: $(grep 'not found' <<<"$out" | tr -s ' \t\n' ' ')"
  fi
  awk '/=>/ { if ($3 ~ /^\//) print $3; next } $1 ~ /^\// { print $1 }' <<<"$out"
}

# Appends "SRC<TAB>DEST" lines for a program and its libraries to $1.
lab_add_program() {
  local manifest=$1 src=$2 dest=$3 lib libs
  printf '%s\t%s\n' "$src" "$dest" >>"$manifest"
  libs=$(lab_libs_of "$src") || exit 2 # lab_die ran in the subshell
  while IFS= read -r lib; do
    [[ -n $lib ]] || continue
    printf '%s\t%s\n' "$(readlink -f "$lib")" "$(lab_guest_path "$lib")" >>"$manifest"
  done <<<"$libs"
}

# Writes the base manifest: busybox, labnet, tools, modules, kernel metadata.
lab_base_manifest() {
  local manifest=$1
  : >"$manifest"
  printf '%s\t%s\n' "$(readlink -f "$(command -v busybox)")" /usr/bin/busybox >>"$manifest"
  printf '%s\t%s\n' "$LAB_LABNET" /usr/bin/labnet >>"$manifest"

  local name pkg opt path
  while read -r name pkg opt; do
    [[ -z $name || $name == \#* ]] && continue
    path=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$name" || true)
    if [[ -z $path ]]; then
      [[ $opt == optional ]] && continue
      lab_die "'$name' not found; install Debian package '$pkg' (scripts/bootstrap does)"
    fi
    path=$(readlink -f "$path")
    lab_add_program "$manifest" "$path" "$(lab_guest_path "$path")"
  done <"$LAB_SRC/tools.list"

  local mods=() m line
  while read -r m _; do
    [[ -z $m || $m == \#* ]] && continue
    mods+=("$m")
  done <"$LAB_SRC/modules.list"
  local moddir=/usr/lib/modules/$LAB_KVER
  for m in "${mods[@]}"; do
    local deps
    deps=$(modprobe -D -d "$LAB_KROOT" -S "$LAB_KVER" "$m" 2>&1) ||
      lab_die "module '$m' (lab/modules.list) not in $LAB_KPKG: $deps"
    while read -r line; do
      [[ $line == insmod\ * ]] || continue
      line=${line#insmod }
      line=${line%% *}
      printf '%s\t%s\n' "$line" "$moddir/${line#"$LAB_KROOT"/lib/modules/"$LAB_KVER"/}" >>"$manifest"
    done <<<"$deps"
  done
  for m in modules.builtin modules.builtin.modinfo modules.order; do
    [[ -f $LAB_KROOT/lib/modules/$LAB_KVER/$m ]] &&
      printf '%s\t%s\n' "$LAB_KROOT/lib/modules/$LAB_KVER/$m" "$moddir/$m" >>"$manifest"
  done
  for m in /etc/services /etc/protocols; do
    [[ -f $m ]] && printf '%s\t%s\n' "$m" "$m" >>"$manifest"
  done
  sort -u -o "$manifest" "$manifest"
  LAB_MODULES=("${mods[@]}")
}

lab_copy_manifest() {
  local manifest=$1 stage=$2 src dest
  while IFS=$'\t' read -r src dest; do
    mkdir -p "$stage$(dirname "$dest")"
    cp -L --preserve=mode "$src" "$stage$dest"
  done <"$manifest"
}

lab_cpio() { # DIR -> stdout (newc, root-owned, stable order)
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet)
}

# "NAME PATH" for each real program under STAGE/DIR... whose name is also a
# busybox applet: the guest's busybox sh would run the applet instead (it
# prefers applets to $PATH), so lib.sh wraps these in shell functions.
lab_shadow_list() {
  local stage=$1 dir f
  shift
  local applets
  applets=$(busybox --list)
  for dir in "$@"; do
    for f in "$stage$dir"/*; do
      [[ -f $f && ! -L $f && -x $f ]] || continue
      [[ ${f##*/} == busybox ]] && continue
      grep -qxF "${f##*/}" <<<"$applets" && echo "${f##*/} $dir/${f##*/}"
    done
  done
  return 0
}

# Builds (or reuses) the base archive; sets LAB_BASE and LAB_BASE_MANIFEST.
lab_base() {
  lab_labnet
  # Fast path: nothing that goes into the image changed since the last run
  # (installing or upgrading any Debian package touches dpkg's status file).
  # LVSD_LAB_REBUILD=1 forces the full check.
  local sig sigfile=$LAB_CACHE/base.sig
  sig=$({
    echo "$LAB_KPKG $LAB_KVER"
    stat -c '%n %s %Y %i' "${BASH_SOURCE[0]}" "$LAB_SRC/tools.list" "$LAB_SRC/modules.list" \
      "$(readlink -f "$(command -v busybox)")" "$LAB_LABNET" /var/lib/dpkg/status "$LAB_KROOT/.stamp"
  } | sha256sum | cut -c1-64)
  if [[ ${LVSD_LAB_REBUILD:-0} != 1 && -f $sigfile ]]; then
    local old_sig old_hash
    read -r old_sig old_hash <"$sigfile"
    if [[ $old_sig == "$sig" && -f $LAB_CACHE/base-$old_hash.cpio && -f $LAB_CACHE/base-$old_hash.manifest ]]; then
      LAB_BASE=$LAB_CACHE/base-$old_hash.cpio
      LAB_BASE_MANIFEST=$LAB_CACHE/base-$old_hash.manifest
      return 0
    fi
  fi
  local manifest=$LAB_DIR/tmp/base-manifest.$$
  mkdir -p "$LAB_DIR/tmp"
  lab_base_manifest "$manifest"
  local hash
  hash=$({
    # this file builds the image: any change to it is a new image
    echo "kernel $LAB_KPKG $LAB_KVER"
    sha256sum "${BASH_SOURCE[0]}" "$LAB_SRC/tools.list" "$LAB_SRC/modules.list" | cut -c1-64
    printf '%s\n' "${LAB_MODULES[@]}"
    cut -f2 "$manifest"
    cut -f1 "$manifest" | xargs -d '\n' sha256sum | cut -c1-64
  } | sha256sum | cut -c1-16)
  LAB_BASE=$LAB_CACHE/base-$hash.cpio
  LAB_BASE_MANIFEST=$LAB_CACHE/base-$hash.manifest
  if [[ -f $LAB_BASE && -f $LAB_BASE_MANIFEST ]]; then
    rm -f "$manifest"
    echo "$sig $hash" >"$sigfile"
    return 0
  fi
  lab_log "building base initramfs $(basename "$LAB_BASE") (kernel $LAB_KVER)"
  local stage=$LAB_DIR/tmp/base-stage.$$
  rm -rf "$stage"
  mkdir -p "$stage"/{usr/bin,usr/sbin,usr/lib,usr/lib64,usr/local/bin,usr/local/sbin,proc,sys,dev,run,tmp,etc,root,var,mnt,lab}
  ln -s usr/bin "$stage/bin"
  ln -s usr/sbin "$stage/sbin"
  ln -s usr/lib "$stage/lib"
  ln -s usr/lib64 "$stage/lib64"
  ln -s ../run "$stage/var/run"
  ln -s ../tmp "$stage/var/tmp"
  lab_copy_manifest "$manifest" "$stage"

  # busybox applets, unless a real program of that name was copied
  local applet
  for applet in $("$stage/usr/bin/busybox" --list); do
    [[ $applet == busybox ]] && continue
    [[ -e $stage/usr/bin/$applet || -e $stage/usr/sbin/$applet ]] && continue
    ln -s busybox "$stage/usr/bin/$applet"
  done

  lab_shadow_list "$stage" /usr/bin /usr/sbin >"$stage/etc/lab-shadow"
  depmod -b "$stage" "$LAB_KVER" || lab_die "depmod on the staged modules failed"
  printf '%s\n' "${LAB_MODULES[@]}" >"$stage/etc/lab-modules"
  cat >"$stage/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
keepalived_script:x:999:999:keepalived scripts:/nonexistent:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
  cat >"$stage/etc/group" <<'EOF'
root:x:0:
keepalived_script:x:999:
nogroup:x:65534:
EOF
  printf 'hosts: files\nservices: files\nprotocols: files\npasswd: files\ngroup: files\n' >"$stage/etc/nsswitch.conf"

  # Uncompressed: under emulation the kernel unpacks it faster than it could
  # gunzip it, and the host saves the compression.
  lab_cpio "$stage" >"$LAB_BASE.tmp" || lab_die "writing the base cpio failed"
  # The per-run archive is appended to this one; the kernel wants each
  # archive 4-byte aligned and skips zero padding between them.
  local size pad
  size=$(stat -c %s "$LAB_BASE.tmp")
  pad=$(((4 - size % 4) % 4))
  [[ $pad -gt 0 ]] && head -c "$pad" /dev/zero >>"$LAB_BASE.tmp"
  mv "$LAB_BASE.tmp" "$LAB_BASE"
  cut -f2 "$manifest" >"$LAB_BASE_MANIFEST"
  rm -rf "$stage" "$manifest"
  # keep the cache from growing without bound: drop other base images
  find "$LAB_CACHE" -maxdepth 1 -name 'base-*' ! -name "base-$hash.*" -delete
  echo "$sig $hash" >"$sigfile"
}

# --- per-run archive ----------------------------------------------------------
# lab_run_archive OUT MODE [scenario timeout]... : /init, guest scripts,
# scenarios, build/bin programs (+ libraries the base lacks), /lab/run.conf.
lab_run_archive() {
  local out=$1 mode=$2
  shift 2
  local stage=$out.stage
  rm -rf "$stage"
  mkdir -p "$stage/lab/guest" "$stage/lab/scenarios" "$stage/usr/local/bin"
  cp "$LAB_SRC/guest/init" "$stage/init"
  chmod 755 "$stage/init"
  find "$LAB_SRC/guest" -maxdepth 1 -type f -name '*.sh' -exec cp {} "$stage/lab/guest/" \;
  cp "$LAB_SRC"/scenarios/*.sh "$stage/lab/scenarios/"
  {
    echo "mode $mode"
    while [[ $# -gt 0 ]]; do
      echo "scenario $1 $2"
      shift 2
    done
  } >"$stage/lab/run.conf"

  # lvsd, lvsctl, lvs-agent and test helpers, if built
  local bindir=$LAB_BUILD/bin
  if [[ -d $bindir ]]; then
    local manifest=$out.manifest f lib libs dest
    : >"$manifest"
    while IFS= read -r f; do
      # debug info stripped: smaller image, symbols kept for backtraces
      if ! { command -v strip >/dev/null 2>&1 && strip --strip-debug -o "$stage/usr/local/bin/${f##*/}" "$f" 2>/dev/null; }; then
        cp "$f" "$stage/usr/local/bin/"
      fi
      file_is_elf "$f" || continue
      libs=$(lab_libs_of "$f") || exit 2 # lab_die ran in the subshell
      while IFS= read -r lib; do
        [[ -n $lib ]] || continue
        dest=$(lab_guest_path "$lib")
        grep -qxF "$dest" "$LAB_BASE_MANIFEST" || printf '%s\t%s\n' "$(readlink -f "$lib")" "$dest" >>"$manifest"
      done <<<"$libs"
    done < <(find "$bindir" -maxdepth 1 -type f -perm -u+x | sort)
    sort -u -o "$manifest" "$manifest"
    lab_copy_manifest "$manifest" "$stage"
    rm -f "$manifest"
  fi
  lab_shadow_list "$stage" /usr/local/bin >"$stage/lab/shadow"
  lab_cpio "$stage" >"$out.cpio" || lab_die "writing the run cpio failed"
  cat "$LAB_BASE" "$out.cpio" >"$out"
  rm -rf "$stage" "$out.cpio"
}

file_is_elf() { [[ $(head -c 4 "$1" | od -An -c | tr -d ' ') == 177ELF ]]; }

# --- scenarios ------------------------------------------------------------------
lab_scenarios() { # all scenario names, sorted
  local f
  for f in "$LAB_SRC"/scenarios/*.sh; do
    [[ -e $f ]] || continue
    f=${f##*/}
    echo "${f%.sh}"
  done | LC_ALL=C sort
}

lab_meta() { # NAME KEY DEFAULT: a "# lab-KEY: value" header line of the scenario
  local v
  v=$(sed -n "s/^# lab-$2:[[:space:]]*//p" "$LAB_SRC/scenarios/$1.sh" | head -n 1)
  echo "${v:-$3}"
}

# --- qemu ------------------------------------------------------------------------
# lab_qemu_cmd INITRD MODE: fills LAB_QEMU (array).
# norandmaps: without address-space randomisation every process maps its
# programs and libraries at the same addresses, so qemu's translated code is
# reused across processes: dynamically linked programs (ip, ipvsadm) start
# 3-10x faster under TCG.
# no_timer_check: on a busy host the emulated CPU is too slow for the
# kernel's early IO-APIC timer test, which then panics ("IO-APIC + timer
# doesn't work!"); the timer works, skip the test.
lab_qemu_cmd() {
  local initrd=$1 mode=$2
  # shellcheck disable=SC2034 # used by lab/run and lab/shell
  LAB_QEMU=(qemu-system-x86_64 -accel tcg -cpu max -m "${LVSD_LAB_MEM:-1024}" -smp "${LVSD_LAB_SMP:-2}"
    -nodefaults -no-user-config -display none -no-reboot
    -kernel "$LAB_VMLINUZ" -initrd "$initrd"
    -append "console=ttyS0 quiet loglevel=3 panic=-1 random.trust_cpu=on norandmaps no_timer_check lab.mode=$mode ${LVSD_LAB_APPEND:-}")
}
