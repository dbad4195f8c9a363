#!/bin/sh
# The worked examples of the LVS installation guide, verbatim.
ipvsadm -C
ipvsadm -A -t 192.168.0.10:80 -s wrr -p 300
ipvsadm -a -t 192.168.0.10:80 -r 192.168.0.101:80 -g -w 5
ipvsadm -a -t 192.168.0.10:80 -r 222.117.155.123:80 -g -w 10
ipvsadm -Ln        # list;  ipvsadm -Lnc  # connections
ipvsadm -A -t 211.47.13.234:80 -s wlc
ipvsadm -a -t 211.47.13.234:80 -r 10.0.0.101:8080 -m -w 1
ipvsadm -a -t 211.47.13.234:80 -r 10.0.0.102:8080 -m -w 2
