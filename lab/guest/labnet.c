/*
 * labnet: the lab's traffic tool. One small, statically linked program that
 * runs inside the qemu guest and plays both ends of the test traffic:
 *
 *   labnet serve --name NAME [--http PORT]... [--echo PORT]... [--silent PORT]...
 *                [--udp PORT]... [--ready-file PATH]
 *       One process, one poll loop, any number of listeners (IPv4 and IPv6,
 *       bound to the wildcard address so that a VIP on lo/tunl0 is served):
 *       http   - any GET answers "NAME port=PORT\n" and closes; GET /hold
 *                answers the same line but keeps the connection open until
 *                the client closes it (a long-lived, active IPVS connection).
 *       echo   - sends "hello NAME port=PORT\n", then echoes every byte.
 *       silent - accepts and never answers (a broken real server).
 *       udp    - answers every datagram with "NAME port=PORT\n".
 *
 *   labnet get ADDR:PORT [-n N] [--timeout-ms MS] [--path P] [--bind IP]
 *              [--each] [--udp]
 *       N sequential requests, each on a new connection (new source port),
 *       then a summary: "server NAME COUNT" per answering server,
 *       "errors N", "first-error TEXT", "elapsed_ms N". Exit 1 if any failed.
 *
 *   labnet hold ADDR:PORT [--timeout-ms MS] [--bind IP] [--seconds S]
 *       GET /hold, print "server NAME", keep the connection open for S
 *       seconds (default: until killed). Exit 1 if the peer closes or resets.
 *
 *   labnet echo ADDR:PORT [-n N] [--interval-ms MS] [--timeout-ms MS] [--bind IP]
 *       One connection to an echo service; N round trips "seq K". Prints
 *       "server NAME", "sent N", "ok M", "first-error ...". Exit 1 unless all
 *       N came back intact (a connection-survival probe).
 *
 *   labnet wait-port ADDR:PORT [--timeout-ms MS]
 *       Retry connecting until it succeeds (exit 0) or the time is up (exit 1).
 *
 * Written in C with no dependencies so it can be linked statically at lab
 * build time and needs nothing in the guest. Addresses are numeric only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_LISTENERS 32
#define MAX_CONNS 4096
#define INBUF 4096

static volatile sig_atomic_t g_stop = 0;

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "labnet: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(2);
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) die("fcntl: %s", strerror(errno));
}

static long parse_long(const char *s, const char *what, long min, long max) {
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || !end || *end || v < min || v > max) die("bad %s '%s'", what, s);
  return v;
}

/* "1.2.3.4:80", "[fd00::1]:80" or "1.2.3.4" (port 0) */
static void parse_addr(const char *text, struct sockaddr_storage *ss, socklen_t *len, int need_port) {
  char host[128];
  const char *port = NULL;
  memset(ss, 0, sizeof(*ss));
  if (text[0] == '[') {
    const char *close = strchr(text, ']');
    if (!close || (size_t)(close - text - 1) >= sizeof(host)) die("bad address '%s'", text);
    memcpy(host, text + 1, close - text - 1);
    host[close - text - 1] = 0;
    if (close[1] == ':') port = close + 2;
    else if (close[1]) die("bad address '%s'", text);
  } else {
    const char *colon = strrchr(text, ':');
    if (colon && strchr(text, ':') == colon) { /* exactly one colon: IPv4:port */
      if ((size_t)(colon - text) >= sizeof(host)) die("bad address '%s'", text);
      memcpy(host, text, colon - text);
      host[colon - text] = 0;
      port = colon + 1;
    } else {
      if (strlen(text) >= sizeof(host)) die("bad address '%s'", text);
      strcpy(host, text);
    }
  }
  if (need_port && !port) die("address '%s' needs a port", text);
  int p = port ? (int)parse_long(port, "port", 0, 65535) : 0;
  struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(p);
    *len = sizeof(*a4);
  } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(p);
    *len = sizeof(*a6);
  } else {
    die("not a numeric IP address: '%s'", host);
  }
}

/* ---------------------------------------------------------------- server */

enum kind { K_HTTP, K_ECHO, K_SILENT, K_UDP };
static const char *kind_name[] = {"http", "echo", "silent", "udp"};

struct listener {
  int fd;
  enum kind kind;
  int port;
};

struct conn {
  int fd; /* -1 = free slot */
  enum kind kind;
  int port;
  char in[INBUF];
  size_t inlen;
  char *out;
  size_t outlen, outoff;
  int close_after_write;
  int holding;
};

static const char *g_name = NULL;

static int open_listener(enum kind kind, int port) {
  int type = kind == K_UDP ? SOCK_DGRAM : SOCK_STREAM;
  int fd = socket(AF_INET6, type, 0);
  if (fd < 0) die("socket: %s", strerror(errno));
  int one = 1, zero = 0;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0)
    die("IPV6_V6ONLY: %s", strerror(errno));
  struct sockaddr_in6 a;
  memset(&a, 0, sizeof(a));
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_any;
  a.sin6_port = htons(port);
  if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
    die("bind %s port %d: %s", kind_name[kind], port, strerror(errno));
  if (type == SOCK_STREAM && listen(fd, 1024) < 0) die("listen: %s", strerror(errno));
  set_nonblock(fd);
  return fd;
}

static void conn_queue(struct conn *c, const char *data, size_t n) {
  char *p = realloc(c->out, c->outlen + n);
  if (!p) die("out of memory");
  c->out = p;
  memcpy(c->out + c->outlen, data, n);
  c->outlen += n;
}

static void conn_free(struct conn *c) {
  close(c->fd);
  c->fd = -1;
  free(c->out);
  c->out = NULL;
  c->outlen = c->outoff = c->inlen = 0;
  c->close_after_write = c->holding = 0;
}

static void http_respond(struct conn *c) {
  char *end = memmem(c->in, c->inlen, "\r\n\r\n", 4);
  if (!end) end = memmem(c->in, c->inlen, "\n\n", 2);
  if (!end) {
    if (c->inlen == sizeof(c->in)) {
      const char *r = "HTTP/1.0 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n";
      conn_queue(c, r, strlen(r));
      c->close_after_write = 1;
      c->inlen = 0;
    }
    return;
  }
  char method[16] = "", path[256] = "";
  if (sscanf(c->in, "%15s %255s", method, path) != 2) {
    const char *r = "HTTP/1.0 400 Bad Request\r\nConnection: close\r\n\r\n";
    conn_queue(c, r, strlen(r));
    c->close_after_write = 1;
    c->inlen = 0;
    return;
  }
  char body[300], head[300];
  int blen = snprintf(body, sizeof(body), "%s port=%d\n", g_name, c->port);
  int hold = strcmp(path, "/hold") == 0;
  int hlen;
  if (hold)
    hlen = snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n");
  else
    hlen = snprintf(head, sizeof(head),
                    "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                    "Connection: close\r\n\r\n",
                    blen);
  conn_queue(c, head, hlen);
  if (strcmp(method, "HEAD") != 0) conn_queue(c, body, blen);
  c->inlen = 0;
  if (hold) c->holding = 1;
  else c->close_after_write = 1;
}

static int cmd_serve(int argc, char **argv) {
  struct listener ls[MAX_LISTENERS];
  int nls = 0;
  const char *ready = NULL;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    enum kind k;
    if (!strcmp(a, "--name") && i + 1 < argc) { g_name = argv[++i]; continue; }
    if (!strcmp(a, "--ready-file") && i + 1 < argc) { ready = argv[++i]; continue; }
    if (!strcmp(a, "--http")) k = K_HTTP;
    else if (!strcmp(a, "--echo")) k = K_ECHO;
    else if (!strcmp(a, "--silent")) k = K_SILENT;
    else if (!strcmp(a, "--udp")) k = K_UDP;
    else die("serve: unknown argument '%s'", a);
    if (i + 1 >= argc) die("serve: %s needs a port", a);
    if (nls == MAX_LISTENERS) die("serve: too many listeners");
    ls[nls].kind = k;
    ls[nls].port = (int)parse_long(argv[++i], "port", 1, 65535);
    nls++;
  }
  if (!g_name) die("serve: --name is required");
  if (nls == 0) die("serve: no listeners (--http/--echo/--silent/--udp PORT)");
  for (int i = 0; i < nls; i++) ls[i].fd = open_listener(ls[i].kind, ls[i].port);

  static struct conn conns[MAX_CONNS];
  for (int i = 0; i < MAX_CONNS; i++) conns[i].fd = -1;
  int nconns = 0; /* highest used slot + 1 */

  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  if (ready) {
    FILE *f = fopen(ready, "w");
    if (!f) die("ready file %s: %s", ready, strerror(errno));
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
  }
  fprintf(stderr, "labnet: %s serving", g_name);
  for (int i = 0; i < nls; i++) fprintf(stderr, " %s:%d", kind_name[ls[i].kind], ls[i].port);
  fprintf(stderr, "\n");

  static struct pollfd pfd[MAX_LISTENERS + MAX_CONNS];
  static int slot[MAX_LISTENERS + MAX_CONNS];
  while (!g_stop) {
    int n = 0;
    for (int i = 0; i < nls; i++) {
      pfd[n].fd = ls[i].fd;
      pfd[n].events = POLLIN;
      slot[n++] = -1 - i;
    }
    for (int i = 0; i < nconns; i++) {
      struct conn *c = &conns[i];
      if (c->fd < 0) continue;
      pfd[n].fd = c->fd;
      pfd[n].events = POLLIN | (c->outoff < c->outlen ? POLLOUT : 0);
      slot[n++] = i;
    }
    int r = poll(pfd, n, 1000);
    if (r < 0) {
      if (errno == EINTR) continue;
      die("poll: %s", strerror(errno));
    }
    for (int p = 0; p < n; p++) {
      if (!pfd[p].revents) continue;
      if (slot[p] < 0) {
        struct listener *l = &ls[-1 - slot[p]];
        if (l->kind == K_UDP) {
          char buf[2048], reply[300];
          struct sockaddr_storage from;
          socklen_t flen = sizeof(from);
          ssize_t got = recvfrom(l->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
          if (got < 0) continue;
          int rlen = snprintf(reply, sizeof(reply), "%s port=%d\n", g_name, l->port);
          sendto(l->fd, reply, rlen, 0, (struct sockaddr *)&from, flen);
          continue;
        }
        for (;;) {
          int fd = accept(l->fd, NULL, NULL);
          if (fd < 0) break;
          int s = -1;
          for (int i = 0; i < MAX_CONNS; i++)
            if (conns[i].fd < 0) { s = i; break; }
          if (s < 0) { close(fd); continue; }
          set_nonblock(fd);
          struct conn *c = &conns[s];
          c->fd = fd;
          c->kind = l->kind;
          c->port = l->port;
          if (s + 1 > nconns) nconns = s + 1;
          if (l->kind == K_ECHO) {
            char hello[300];
            int hl = snprintf(hello, sizeof(hello), "hello %s port=%d\n", g_name, l->port);
            conn_queue(c, hello, hl);
          }
        }
        continue;
      }
      struct conn *c = &conns[slot[p]];
      if (c->fd < 0) continue;
      if (pfd[p].revents & (POLLIN | POLLERR | POLLHUP)) {
        /* HTTP requests accumulate in c->in until the header is complete;
         * everything else (echo data, bytes after a request) goes to scratch. */
        char scratch[INBUF];
        int collect = c->kind == K_HTTP && !c->holding && !c->close_after_write;
        char *dst = collect ? c->in + c->inlen : scratch;
        size_t cap = collect ? sizeof(c->in) - c->inlen : sizeof(scratch);
        ssize_t got = read(c->fd, dst, cap);
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
          conn_free(c);
          continue;
        }
        if (got > 0) {
          if (collect) {
            c->inlen += got;
            http_respond(c);
          } else if (c->kind == K_ECHO) {
            conn_queue(c, scratch, got);
          } /* K_SILENT: discard */
        }
      }
      if (c->fd >= 0 && c->outoff < c->outlen) {
        ssize_t w = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
          conn_free(c);
          continue;
        }
        if (w > 0) c->outoff += w;
        if (c->outoff == c->outlen) {
          c->outoff = c->outlen = 0;
          if (c->close_after_write) conn_free(c);
        }
      }
    }
    while (nconns > 0 && conns[nconns - 1].fd < 0) nconns--;
  }
  return 0;
}

/* ---------------------------------------------------------------- clients */

struct client_opts {
  struct sockaddr_storage to, from;
  socklen_t tolen, fromlen;
  int have_from;
  long timeout_ms;
};

/* Connect with a deadline. Returns fd or -1 with err filled in. */
static int dial(const struct client_opts *o, int type, char *err, size_t errlen) {
  int fd = socket(o->to.ss_family, type, 0);
  if (fd < 0) {
    snprintf(err, errlen, "socket: %s", strerror(errno));
    return -1;
  }
  if (o->have_from && bind(fd, (const struct sockaddr *)&o->from, o->fromlen) < 0) {
    snprintf(err, errlen, "bind: %s", strerror(errno));
    close(fd);
    return -1;
  }
  set_nonblock(fd);
  if (connect(fd, (const struct sockaddr *)&o->to, o->tolen) < 0) {
    if (errno != EINPROGRESS) {
      snprintf(err, errlen, "connect: %s", strerror(errno));
      close(fd);
      return -1;
    }
    struct pollfd pf = {.fd = fd, .events = POLLOUT};
    int r;
    do r = poll(&pf, 1, o->timeout_ms); while (r < 0 && errno == EINTR && !g_stop);
    if (r <= 0) {
      snprintf(err, errlen, "connect: timed out after %ld ms", o->timeout_ms);
      close(fd);
      return -1;
    }
    int soerr = 0;
    socklen_t sl = sizeof(soerr);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
    if (soerr) {
      snprintf(err, errlen, "connect: %s", strerror(soerr));
      close(fd);
      return -1;
    }
  }
  return fd;
}

static int write_all(int fd, const char *buf, size_t n, int64_t deadline, char *err, size_t errlen) {
  size_t off = 0;
  while (off < n) {
    ssize_t w = write(fd, buf + off, n - off);
    if (w > 0) { off += w; continue; }
    if (w < 0 && errno != EAGAIN && errno != EINTR) {
      snprintf(err, errlen, "write: %s", strerror(errno));
      return -1;
    }
    int64_t left = deadline - now_ms();
    if (left <= 0) { snprintf(err, errlen, "write: timed out"); return -1; }
    struct pollfd pf = {.fd = fd, .events = POLLOUT};
    poll(&pf, 1, (int)left);
  }
  return 0;
}

/* Read until `until` appears in buf (or EOF when until == NULL). Returns bytes
 * in buf, -1 on error/timeout (err filled), buf always NUL-terminated. */
static ssize_t read_until(int fd, char *buf, size_t cap, size_t have, const char *until,
                          int64_t deadline, int *eof, char *err, size_t errlen) {
  *eof = 0;
  for (;;) {
    buf[have] = 0;
    if (until && strstr(buf, until)) return (ssize_t)have;
    if (have + 1 >= cap) {
      snprintf(err, errlen, "response too long");
      return -1;
    }
    ssize_t got = read(fd, buf + have, cap - 1 - have);
    if (got > 0) { have += got; continue; }
    if (got == 0) {
      *eof = 1;
      buf[have] = 0;
      if (until) {
        snprintf(err, errlen, "connection closed by peer after %zu bytes", have);
        return -1;
      }
      return (ssize_t)have;
    }
    if (errno != EAGAIN && errno != EINTR) {
      snprintf(err, errlen, "read: %s", strerror(errno));
      return -1;
    }
    if (g_stop) { snprintf(err, errlen, "interrupted"); return -1; }
    int64_t left = deadline - now_ms();
    if (left <= 0) {
      snprintf(err, errlen, "timed out waiting for the response");
      return -1;
    }
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    poll(&pf, 1, (int)left);
  }
}

/* First token of the body line "NAME port=P" */
static void first_token(const char *s, char *out, size_t cap) {
  size_t n = strcspn(s, " \r\n\t");
  if (n >= cap) n = cap - 1;
  memcpy(out, s, n);
  out[n] = 0;
}

#define MAX_SERVERS 256
struct tally {
  char name[MAX_SERVERS][64];
  long count[MAX_SERVERS];
  int n;
};

static void tally_add(struct tally *t, const char *name) {
  for (int i = 0; i < t->n; i++)
    if (!strcmp(t->name[i], name)) { t->count[i]++; return; }
  if (t->n == MAX_SERVERS) return;
  snprintf(t->name[t->n], sizeof(t->name[0]), "%s", name);
  t->count[t->n++] = 1;
}

/* One HTTP GET on a fresh connection; server name into `who`. */
static int http_once(const struct client_opts *o, const char *path, char *who, size_t wholen,
                     char *err, size_t errlen) {
  int64_t deadline = now_ms() + o->timeout_ms;
  int fd = dial(o, SOCK_STREAM, err, errlen);
  if (fd < 0) return -1;
  char req[512];
  int rl = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: lab\r\nUser-Agent: labnet\r\n\r\n", path);
  if (write_all(fd, req, rl, deadline, err, errlen) < 0) { close(fd); return -1; }
  char buf[8192];
  int eof;
  ssize_t n = read_until(fd, buf, sizeof(buf), 0, NULL, deadline, &eof, err, errlen);
  close(fd);
  if (n < 0) return -1;
  if (n == 0) { snprintf(err, errlen, "empty response"); return -1; }
  int status = 0;
  if (sscanf(buf, "HTTP/%*d.%*d %d", &status) != 1) {
    snprintf(err, errlen, "not an HTTP response");
    return -1;
  }
  if (status != 200) { snprintf(err, errlen, "HTTP status %d", status); return -1; }
  char *body = strstr(buf, "\r\n\r\n");
  if (!body) { snprintf(err, errlen, "truncated response"); return -1; }
  first_token(body + 4, who, wholen);
  if (!who[0]) { snprintf(err, errlen, "empty body"); return -1; }
  return 0;
}

static int udp_once(const struct client_opts *o, char *who, size_t wholen, char *err, size_t errlen) {
  int64_t deadline = now_ms() + o->timeout_ms;
  int fd = dial(o, SOCK_DGRAM, err, errlen);
  if (fd < 0) return -1;
  if (send(fd, "who\n", 4, 0) < 0) {
    snprintf(err, errlen, "send: %s", strerror(errno));
    close(fd);
    return -1;
  }
  char buf[512];
  for (;;) {
    ssize_t got = recv(fd, buf, sizeof(buf) - 1, 0);
    if (got > 0) {
      buf[got] = 0;
      first_token(buf, who, wholen);
      close(fd);
      return 0;
    }
    if (got < 0 && errno != EAGAIN && errno != EINTR) {
      snprintf(err, errlen, "recv: %s", strerror(errno));
      break;
    }
    int64_t left = deadline - now_ms();
    if (left <= 0 || g_stop) {
      snprintf(err, errlen, "timed out waiting for the reply");
      break;
    }
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    poll(&pf, 1, (int)left);
  }
  close(fd);
  return -1;
}

static void parse_client_common(int *i, int argc, char **argv, struct client_opts *o, int *handled) {
  const char *a = argv[*i];
  *handled = 1;
  if (!strcmp(a, "--timeout-ms") && *i + 1 < argc) o->timeout_ms = parse_long(argv[++*i], "timeout", 1, 86400000);
  else if (!strcmp(a, "--bind") && *i + 1 < argc) {
    parse_addr(argv[++*i], &o->from, &o->fromlen, 0);
    o->have_from = 1;
  } else *handled = 0;
}

static int cmd_get(int argc, char **argv) {
  struct client_opts o = {.timeout_ms = 3000};
  const char *target = NULL, *path = "/";
  long n = 1;
  int each = 0, udp = 0;
  for (int i = 0; i < argc; i++) {
    int h;
    parse_client_common(&i, argc, argv, &o, &h);
    if (h) continue;
    if (!strcmp(argv[i], "-n") && i + 1 < argc) n = parse_long(argv[++i], "count", 1, 10000000);
    else if (!strcmp(argv[i], "--path") && i + 1 < argc) path = argv[++i];
    else if (!strcmp(argv[i], "--each")) each = 1;
    else if (!strcmp(argv[i], "--udp")) udp = 1;
    else if (argv[i][0] != '-' && !target) target = argv[i];
    else die("get: unknown argument '%s'", argv[i]);
  }
  if (!target) die("get: ADDR:PORT required");
  parse_addr(target, &o.to, &o.tolen, 1);
  if (o.have_from && o.from.ss_family != o.to.ss_family) die("get: --bind and target address families differ");
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  static struct tally t;
  long errors = 0;
  char first_err[256] = "";
  int64_t start = now_ms();
  for (long k = 1; k <= n && !g_stop; k++) {
    char who[64], err[200];
    int rc = udp ? udp_once(&o, who, sizeof(who), err, sizeof(err))
                 : http_once(&o, path, who, sizeof(who), err, sizeof(err));
    if (rc == 0) {
      tally_add(&t, who);
      if (each) printf("req %ld %s\n", k, who);
    } else {
      errors++;
      if (!first_err[0]) snprintf(first_err, sizeof(first_err), "request %ld: %s", k, err);
      if (each) printf("req %ld error %s\n", k, err);
    }
    if (each) fflush(stdout);
  }
  for (int i = 0; i < t.n; i++) printf("server %s %ld\n", t.name[i], t.count[i]);
  printf("errors %ld\n", errors);
  if (first_err[0]) printf("first-error %s\n", first_err);
  printf("elapsed_ms %lld\n", (long long)(now_ms() - start));
  return errors || g_stop ? 1 : 0;
}

static int cmd_hold(int argc, char **argv) {
  struct client_opts o = {.timeout_ms = 3000};
  const char *target = NULL;
  long seconds = -1;
  for (int i = 0; i < argc; i++) {
    int h;
    parse_client_common(&i, argc, argv, &o, &h);
    if (h) continue;
    if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = parse_long(argv[++i], "seconds", 0, 86400 * 365);
    else if (argv[i][0] != '-' && !target) target = argv[i];
    else die("hold: unknown argument '%s'", argv[i]);
  }
  if (!target) die("hold: ADDR:PORT required");
  parse_addr(target, &o.to, &o.tolen, 1);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  char err[200];
  int64_t deadline = now_ms() + o.timeout_ms;
  int fd = dial(&o, SOCK_STREAM, err, sizeof(err));
  if (fd < 0) { printf("error %s\n", err); return 1; }
  const char *req = "GET /hold HTTP/1.0\r\nHost: lab\r\n\r\n";
  if (write_all(fd, req, strlen(req), deadline, err, sizeof(err)) < 0) { printf("error %s\n", err); return 1; }
  char buf[4096];
  int eof;
  ssize_t n = read_until(fd, buf, sizeof(buf), 0, "\r\n\r\n", deadline, &eof, err, sizeof(err));
  if (n < 0) { printf("error %s\n", err); return 1; }
  char *body = strstr(buf, "\r\n\r\n") + 4;
  size_t have = (size_t)n;
  size_t off = body - buf;
  memmove(buf, body, have - off);
  n = read_until(fd, buf, sizeof(buf), have - off, "\n", deadline, &eof, err, sizeof(err));
  if (n < 0) { printf("error %s\n", err); return 1; }
  char who[64];
  first_token(buf, who, sizeof(who));
  printf("server %s\n", who);
  fflush(stdout);
  int64_t until = seconds >= 0 ? now_ms() + seconds * 1000 : -1;
  while (!g_stop) {
    int wait = 1000;
    if (until >= 0) {
      int64_t left = until - now_ms();
      if (left <= 0) break;
      if (left < wait) wait = (int)left;
    }
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    int r = poll(&pf, 1, wait);
    if (r > 0) {
      char scratch[256];
      ssize_t got = read(fd, scratch, sizeof(scratch));
      if (got == 0) { printf("closed by peer\n"); close(fd); return 1; }
      if (got < 0 && errno != EAGAIN && errno != EINTR) {
        printf("error read: %s\n", strerror(errno));
        close(fd);
        return 1;
      }
    }
  }
  printf("released\n");
  close(fd);
  return 0;
}

static int cmd_echo(int argc, char **argv) {
  struct client_opts o = {.timeout_ms = 3000};
  const char *target = NULL;
  long n = 10, interval = 100;
  for (int i = 0; i < argc; i++) {
    int h;
    parse_client_common(&i, argc, argv, &o, &h);
    if (h) continue;
    if (!strcmp(argv[i], "-n") && i + 1 < argc) n = parse_long(argv[++i], "count", 1, 100000000);
    else if (!strcmp(argv[i], "--interval-ms") && i + 1 < argc) interval = parse_long(argv[++i], "interval", 0, 3600000);
    else if (argv[i][0] != '-' && !target) target = argv[i];
    else die("echo: unknown argument '%s'", argv[i]);
  }
  if (!target) die("echo: ADDR:PORT required");
  parse_addr(target, &o.to, &o.tolen, 1);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  char err[200] = "", first_err[256] = "";
  long ok = 0, sent = 0;
  int64_t start = now_ms();
  int fd = dial(&o, SOCK_STREAM, err, sizeof(err));
  char buf[4096];
  int eof;
  if (fd >= 0) {
    ssize_t got = read_until(fd, buf, sizeof(buf), 0, "\n", now_ms() + o.timeout_ms, &eof, err, sizeof(err));
    if (got < 0 || strncmp(buf, "hello ", 6) != 0) {
      if (got >= 0) snprintf(err, sizeof(err), "bad greeting");
      snprintf(first_err, sizeof(first_err), "greeting: %s", err);
    } else {
      char who[64];
      first_token(buf + 6, who, sizeof(who));
      printf("server %s\n", who);
      fflush(stdout);
      for (long k = 1; k <= n && !g_stop; k++) {
        char line[64];
        int ll = snprintf(line, sizeof(line), "seq %ld\n", k);
        int64_t deadline = now_ms() + o.timeout_ms;
        sent++;
        if (write_all(fd, line, ll, deadline, err, sizeof(err)) < 0 ||
            read_until(fd, buf, sizeof(buf), 0, "\n", deadline, &eof, err, sizeof(err)) < 0) {
          snprintf(first_err, sizeof(first_err), "seq %ld after %lld ms: %s", k,
                   (long long)(now_ms() - start), err);
          break;
        }
        if (strcmp(buf, line) != 0) {
          snprintf(first_err, sizeof(first_err), "seq %ld: echoed data differs", k);
          break;
        }
        ok++;
        if (interval && k < n) usleep(interval * 1000);
      }
    }
    close(fd);
  } else {
    snprintf(first_err, sizeof(first_err), "%s", err);
  }
  printf("sent %ld\nok %ld\n", sent, ok);
  if (first_err[0]) printf("first-error %s\n", first_err);
  printf("elapsed_ms %lld\n", (long long)(now_ms() - start));
  return ok == n ? 0 : 1;
}

static int cmd_wait_port(int argc, char **argv) {
  struct client_opts o = {.timeout_ms = 10000};
  const char *target = NULL;
  for (int i = 0; i < argc; i++) {
    int h;
    parse_client_common(&i, argc, argv, &o, &h);
    if (h) continue;
    if (argv[i][0] != '-' && !target) target = argv[i];
    else die("wait-port: unknown argument '%s'", argv[i]);
  }
  if (!target) die("wait-port: ADDR:PORT required");
  parse_addr(target, &o.to, &o.tolen, 1);
  int64_t deadline = now_ms() + o.timeout_ms;
  char err[200] = "";
  struct client_opts once = o;
  for (;;) {
    int64_t left = deadline - now_ms();
    if (left <= 0) break;
    once.timeout_ms = left < 500 ? left : 500;
    int fd = dial(&once, SOCK_STREAM, err, sizeof(err));
    if (fd >= 0) { close(fd); return 0; }
    usleep(50 * 1000);
  }
  fprintf(stderr, "labnet: wait-port %s: %s\n", target, err);
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: labnet serve|get|hold|echo|wait-port ... (see the source header)\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *cmd = argv[1];
  if (!strcmp(cmd, "serve")) return cmd_serve(argc - 2, argv + 2);
  if (!strcmp(cmd, "get")) return cmd_get(argc - 2, argv + 2);
  if (!strcmp(cmd, "hold")) return cmd_hold(argc - 2, argv + 2);
  if (!strcmp(cmd, "echo")) return cmd_echo(argc - 2, argv + 2);
  if (!strcmp(cmd, "wait-port")) return cmd_wait_port(argc - 2, argv + 2);
  die("unknown command '%s'", cmd);
  return 2;
}
