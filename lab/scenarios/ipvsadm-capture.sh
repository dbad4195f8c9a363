# lab-description: Debian ipvsadm's answers to the ipvsadm session (unit-test fixtures)
# lab-default: no
# lab-timeout: 120
#
# The ipvsadm session: command lines covering every scheduler, forwarding
# method, flag, IPv6, fwmark, the listing formats, -S, -R and the error
# messages. This file is three things:
#  - the session text (session_text below) — one source of truth;
#  - the runner other scenarios use (IPVSADM_SESSION_LIB=1 . this file):
#      ipvsadm_session TOOL NODE OUT   runs the session with TOOL ("ipvsadm"
#                                      or "lvsctl ipvsadm") in NODE's namespace
#  - run as a scenario: captures Debian ipvsadm's output and prints it as
#    base64 between "ipvsadm-capture: begin" and "end" lines. Refresh the
#    unit-test fixture with tests/unit/ipvsadm/capture-fixture.
# tests/unit/ipvsadm/session_test.cc replays the same session against lvsd's
# front end and a fake kernel and compares with that fixture.
#
# Session language (the unit test reads it too):
#   run [~|?] ARGS...     run the tool with ARGS (split on blanks)
#   restore [~|?] NAME    run the tool with -R, stdin = input NAME
#   input NAME ... end    an input; \t is a tab, \s a space, a last line
#                         "\noeol" drops the final newline
#   ~ : output depends on the kernel's hash order (compared in one namespace only)
#   ? : output depends on kernel internals the unit test's fake does not model

session_text() {
  cat <<'SESSION'
# ---- the DIGEST examples, with lab addresses
run -C
run -A -t 10.0.0.100:80 -s wrr -p 300
run -a -t 10.0.0.100:80 -r 10.1.0.101:80 -g -w 5
run -a -t 10.0.0.100:80 -r 10.1.0.102:80 -g -w 10
run -A -t 10.0.0.101:80 -s wlc
run -a -t 10.0.0.101:80 -r 10.1.0.101:8080 -m -w 1
run -a -t 10.0.0.101:80 -r 10.1.0.102:8080 -m -w 2
run -Ln
run -Lnc
run

# ---- sync daemons (before any mixed-family destination: the kernel refuses both at once)
run -Ln --daemon
run --start-daemon master --mcast-interface eth0 --syncid 7
run --start-daemon backup --mcast-interface eth1 --syncid 8 --sync-maxlen 1400 --mcast-group 239.1.2.3 --mcast-port 9000 --mcast-ttl 3
run ? -L --daemon
run --start-daemon master
run --stop-daemon master
run --stop-daemon master
run ? -Ln --daemon
run --stop-daemon backup
run --start-daemon master --mcast-group ff02::81
run ? --list --daemon
run --stop-daemon master --syncid 9

# ---- every scheduler and flag
run -A -t 10.0.0.102:1001 -s rr
run -A -t 10.0.0.102:1002 -s wrr
run -A -t 10.0.0.102:1003 -s lc
run -A -t 10.0.0.102:1004 -s wlc
run -A -t 10.0.0.102:1005 -s lblc
run -A -t 10.0.0.102:1006 -s lblcr
run -A -t 10.0.0.102:1007 -s dh
run -A -t 10.0.0.102:1008 -s sh
run -A -t 10.0.0.102:1009 -s sed
run -A -t 10.0.0.102:1010 -s nq
run -A -t 10.0.0.102:1011 -s mh
run -A -t 10.0.0.102:1012 -s fo
run -A -t 10.0.0.102:1013 -s ovf
run -A -t 10.0.0.102:1014 -s sh -b sh-port,sh-fallback
run -A -t 10.0.0.102:1015 -s mh -b mh-fallback,mh-port
run -A -t 10.0.0.102:1016 -s rr -b flag-3
run -A -t 10.0.0.102:1017 -s sh -b sh-port -p
run -A -t 10.0.0.102:1018 -p 60 -M 255.255.255.0
run -A -t 10.0.0.102:0 -p 3600
run -A -u 10.0.0.102:53 -s rr -o
run -A -u 10.0.0.102:5060 -s rr -p 60 --pe sip -o
run -A --sctp-service 10.0.0.102:3868 -s rr
run -A -f 1 -s rr
run -A -f 2 -6 -s wlc -p 120 -M 64
run -A -t [fd00:0:0:a::100]:80 -s rr -p 300 -M 64
run -A -u [fd00:0:0:a::100]:53 -s sh
run -A -t vip:https -s rr
run -A -t 10.0.0.102:1019 -s nosuch
run -A -t 10.0.0.102:1020 -s rr -p 10 --pe nosuch

# ---- destinations: every method, tunnel type, threshold, weight limits
run -a -t 10.0.0.102:1001 -r 10.1.0.103 -m
run -a -t 10.0.0.102:1001 -r 10.1.0.104:8080 -m -w 0 -x 100 -y 10
run -a -t 10.0.0.102:1001 -r 10.1.0.105:80 -g -w 65535
run -a -t 10.0.0.102:1001 -r 10.1.0.106 -i -w 2147483647
run -a -t 10.0.0.102:1002 -r 10.1.0.101 -i --tun-type gue --tun-port 6080 --tun-csum
run -a -t 10.0.0.102:1002 -r 10.1.0.102 -i --tun-type gue --tun-port 6081 --tun-remcsum
run -a -t 10.0.0.102:1002 -r 10.1.0.103 -i --tun-type gue --tun-port 6082 --tun-nocsum
run -a -t 10.0.0.102:1002 -r 10.1.0.104 -i --tun-type gre --tun-csum
run -a -t 10.0.0.102:1002 -r 10.1.0.105 -i --tun-type gre
run -a -t 10.0.0.102:1002 -r 10.1.0.106 -i --tun-type ipip
run -a -t 10.0.0.102:1002 -r [fd00:0:0:b::101] -i
run -a -t 10.0.0.102:1002 -r fd00:0:0:b::101 -i
run -a -t 10.0.0.102:1003 -r 10.1.0.101:80 -m -y 10
run -a -t 10.0.0.102:1003 -r 224.0.0.1:80 -m
run -a -f 1 -r 10.1.0.101 -g
run -a -f 1 -r 10.1.0.102:0 -m -w 3
run -a -f 2 -6 -r [fd00:0:0:b::101]:0 -g
run -a -t [fd00:0:0:a::100]:80 -r [fd00:0:0:b::101]:80 -m
run -a -t [fd00:0:0:a::100]:80 -r [fd00:0:0:b::102]:8080 -m -w 7
run -a -u [fd00:0:0:a::100]:53 -r [fd00:0:0:b::103] -g
run -a -t vip:https -r rs1:https -m
run -a -t vip:https -r rs2 -g
run -a -u 10.0.0.102:5060 -r 10.1.0.101 -m
run -a --sctp-service 10.0.0.102:3868 -r 10.1.0.102 -m -w 4

# ---- edits in place
run -E -t 10.0.0.101:80 -s rr
run -e -t 10.0.0.101:80 -r 10.1.0.101:8080 -m -w 9
run -e -t 10.0.0.102:1001 -r 10.1.0.104:8080 -g
run -e -t 10.0.0.102:1001 -r 10.1.0.103:1001 -i -w 4
run -E -f 1 -s sh -b sh-fallback
run -E -t 10.0.0.102:1018 -p 90 -M 255.255.0.0
run -e -t 10.0.0.102:1001 -r 10.1.0.104:8080 -m -w 2 -x 50 -y 5

# ---- listings
run -Ln
run -L
run -l -n
run -Ln --exact
run -Ln --stats
run -Ln --stats --exact
run -Ln --rate
run -Ln --thresholds
run -Ln --persistent-conn
run -Ln --tun-info
run -L --tun-info
run ~ -Ln --nosort
run -Ln --sort
run -Sn
run -S
run -S -n
run -Ln -t 10.0.0.102:1001
run -L -t vip:https
run -Ln -f 2 -6
run -Ln -u [fd00:0:0:a::100]:53
run -Ln -t 10.0.0.222:80
run -Ln --timeout
run --set 1000 130 400
run -Ln --timeout
run --set 0 0 0
run -L --timeout
run -Lnc
run -Lnc --persistent-conn

# ---- fwmarks above 2^31 sort by int differences: order depends on the kernel
run -A -f 4294967295 -s rr
run -A -f 2147483648 -s lc
run -a -f 4294967295 -r 10.1.0.101 -g
run ~ -Ln
run ~ -Sn
run -D -f 4294967295
run -D -f 2147483648

# ---- deletes, zero
run -d -t 10.0.0.101:80 -r 10.1.0.102:8080
run -d -t 10.0.0.101:80 -r 10.1.0.102:8080
run -D -t 10.0.0.102:1016
run -D -t 10.0.0.102:1016
run -Z
run -Z -t 10.0.0.100:80
run -Z -t 10.0.0.222:80
run -E -t 10.0.0.222:80 -s rr
run -a -t 10.0.0.222:80 -r 10.1.0.101
run -e -t 10.0.0.222:80 -r 10.1.0.101
run -e -t 10.0.0.100:80 -r 10.1.0.199
run -A -t 10.0.0.100:80 -s rr
run -a -t 10.0.0.100:80 -r 10.1.0.101
run -Sn

# ---- restore
input batch
-A -t 10.0.0.103:80 -s rr
ipvsadm -a -t 10.0.0.103:80 -r 10.1.0.101:80 -m -w 3
\s\s-a\s\s\s-t 10.0.0.103:80 -r 10.1.0.102:80 -m\t-w 4\s

-a -t 10.0.0.103:80 -r 10.1.0.102:80 -m
-a -t 10.0.0.199:80 -r 10.1.0.102:80 -m
-e -t 10.0.0.103:80 -r 10.1.0.101:80 -g
-A -u 10.0.0.103:53 -s rr\r
-a -u 10.0.0.103:53 -r 10.1.0.101 -m
-Ln -t 10.0.0.103:80
-A -u 10.0.0.103:54
end
restore batch
run -Sn
input stops-at-bad-weight
-A -t 10.0.0.104:80
-a -t 10.0.0.104:80 -r 10.1.0.101:80 -w abc
-A -t 10.0.0.105:80
end
restore stops-at-bad-weight
input comment-line
-A -t 10.0.0.106:80
# a comment
-A -t 10.0.0.107:80
end
restore comment-line
input last-fails
-A -t 10.0.0.108:80
-A -t 10.0.0.108:80
\noeol
end
restore last-fails
input option-error-continues
-A -t 10.0.0.109:80 --bogus
-A -t 10.0.0.110:80
end
restore option-error-continues
input trailing-blanks-at-eof
-A -t 10.0.0.111:80
-A -t 10.0.0.112:80\s\s
\noeol
end
restore trailing-blanks-at-eof
input nested
-R
end
restore nested
run -Sn

# ---- errors: the same message and status as ipvsadm
run -A
run -A -t
run -A -t 10.0.0.100
run -A -t 10.0.0.300:80
run -A -t 10.0.0.150:80 -w 5
run -a -t 10.0.0.100:80
run -A -t 10.0.0.150:0
run -A -t 10.0.0.150:80 -o
run -A -t 10.0.0.150:80 -p abc
run -A -t 10.0.0.150:80 -p 2678401
run -A -f 0
run -A -f -1
run -A -f 4294967296
run -A -f 1x
run -A -t 10.0.0.150:80 -M 1.2.3.x
run -A -t [fd00::1]:80 -p -M 200
run -A -t 10.0.0.150:80 -b sh-port
run -A -t 10.0.0.150:80 -s sh -b foo
run -A -t 10.0.0.150:80 -s mh -b sh-port
run -A -t 10.0.0.150:80 extra
run -A -t 10.0.0.150:80 -t 10.0.0.150:81
run -A -t 10.0.0.150:80 -u 10.0.0.150:81
run -A -6 -f 1
run -A -t 10.0.0.150:80 -s rr -s wrr
run -a -t 10.0.0.100:80 -r [fd00::1]:80 -g
run -a -t 10.0.0.100:80 -r 10.1.0.109 -g --tun-type gue
run -a -t 10.0.0.100:80 -r 10.1.0.109 -i --tun-type gue
run -a -t 10.0.0.100:80 -r 10.1.0.109 -i --tun-type gre --tun-remcsum
run -a -t 10.0.0.100:80 -r 10.1.0.109 -i --tun-type gue --tun-port 1 --tun-csum --tun-nocsum
run -a -t 10.0.0.100:80 -r 10.1.0.109 -i --tun-port 1
run -a -t 10.0.0.100:80 -r 10.1.0.109 -i --tun-type foo
run -a -t 10.0.0.100:80 -r 10.1.0.109 -i --tun-type gue --tun-port 0
run -a -t 10.0.0.100:80 -r 10.1.0.109 -w 2147483648
run -a -t 10.0.0.100:80 -r 10.1.0.109 -w -1
run -a -t 10.0.0.100:80 -r 10.1.0.109 -w 1.5
run -a -t 10.0.0.100:80 -r 10.1.0.109 -x -1
run -a -t 10.0.0.100:80 -r 10.1.0.109 -y x
run -a -t 10.0.0.100:80 -r 10.1.0.300
run -a -t 10.0.0.100:80 -r 10.1.0.109:99999
run -a -t 10.0.0.100:80 -r 10.1.0.109 -m -g
run -d -t 10.0.0.100:80 -r 10.1.0.109 -w 3
run -L -c --stats
run -L -c --timeout
run -L --timeout --persistent-conn
run -L -t 10.0.0.100:80 -c
run -Lz
run -L -A
run -Ln --list
run --foo
run -Ln=
run --list=yes
run -w 5
run -6
run --
run -L --
run -L -- -n
run --set 1 2
run --set 1 2 x
run --set 1 2 3 4
run --set -1 2 3
run --start-daemon foo
run --stop-daemon foo
run --start-daemon
run --start-daemon master --syncid 256
run --start-daemon master --mcast-group 10.0.0.1
run --start-daemon master --mcast-group fd00::1
run --start-daemon master --mcast-port 0
run --start-daemon master --mcast-ttl 256
run --start-daemon master --sync-maxlen 65508
run --stop-daemon master -n
run -C -n
run -Z -n
run -S -c
run -R -n
run -h
run -v
run --version
run --help
SESSION
}

# The file's inputs and session lines, as the runner needs them.
ipvsadm_session_inputs() { # DIR: writes DIR/input-NAME for every input block
  session_text | awk -v dir="$1" '
    $1 == "input" { name = $2; file = dir "/input-" name; printf "" > file; pending = ""; inblock = 1; next }
    inblock && $0 == "end" {
      if (pending != "") printf "%s\n", pending >> file
      close(file); inblock = 0; pending = ""; next
    }
    inblock && $0 == "\\noeol" {
      if (pending != "") printf "%s", pending >> file
      pending = ""; next
    }
    inblock {
      line = $0
      gsub(/\\t/, "\t", line); gsub(/\\s/, " ", line); gsub(/\\r/, "\r", line)
      if (pending != "") printf "%s\n", pending >> file
      pending = line
      if (line == "") { printf "\n" >> file; pending = "" }
    }'
}

# ipvsadm_session TOOL NODE OUT: runs every "run"/"restore" line with TOOL in
# NODE and writes the capture format:
#   ### <session line>
#   rc N
#   >stdout line   !stderr line   %noeol-out / %noeol-err (no final newline)
ipvsadm_session() {
  _tool=$1
  _node=$2
  _out=$3
  _dir=$LAB_STATE/session-$_node
  rm -rf "$_dir"
  mkdir -p "$_dir"
  ipvsadm_session_inputs "$_dir"
  : >"$_out"
  session_text | awk '$1 == "input" { skip = 1 } skip && $0 == "end" { skip = 0; next } !skip && ($1 == "run" || $1 == "restore")' >"$_dir/lines"
  while IFS= read -r _line; do
    set -f
    # shellcheck disable=SC2086
    set -- $_line
    set +f
    _kind=$1
    shift
    case $1 in "~" | "?") shift ;; esac
    if [ "$_kind" = restore ]; then
      # shellcheck disable=SC2086
      ip netns exec "$_node" $_tool -R <"$_dir/input-$1" >"$_dir/o" 2>"$_dir/e"
    else
      # shellcheck disable=SC2086
      ip netns exec "$_node" $_tool "$@" >"$_dir/o" 2>"$_dir/e" </dev/null
    fi
    _rc=$?
    {
      echo "### $_line"
      echo "rc $_rc"
      [ -s "$_dir/o" ] && awk '{ print ">" $0 }' "$_dir/o"
      [ -s "$_dir/o" ] && [ "$(tail -c 1 "$_dir/o" | od -An -c | tr -d ' ')" != '\n' ] && echo "%noeol-out"
      [ -s "$_dir/e" ] && awk '{ print "!" $0 }' "$_dir/e"
      [ -s "$_dir/e" ] && [ "$(tail -c 1 "$_dir/e" | od -An -c | tr -d ' ')" != '\n' ] && echo "%noeol-err"
    } >>"$_out"
  done <"$_dir/lines"
}

[ -n "$IPVSADM_SESSION_LIB" ] && return 0

topo_create --clients 1 --directors 1 --servers 0
step "Debian ipvsadm runs the session in dir1"
ipvsadm_session ipvsadm dir1 "$LAB_STATE/capture"
log "session: $(grep -c '^###' "$LAB_STATE/capture") commands"
echo "ipvsadm-capture: begin"
base64 "$LAB_STATE/capture"
echo "ipvsadm-capture: end"
