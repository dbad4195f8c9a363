// lab-paperweb: the workload of the paper's experiment, for the lab scenario
// paper-experiment (not part of the product).
//
//   lab-paperweb serve --listen ADDR [--port 80] --name NAME
//                      [--cgi-kb 3500] [--cgi-ms 3000] [--cgi-cpu-ms 100]
//       A web server in the old style: small static answers from the main
//       process; a request for /cgi... forks a child (like Apache running a
//       Perl CGI) that allocates and touches --cgi-kb KB, burns --cgi-cpu-ms
//       of CPU, holds the memory until --cgi-ms have passed, answers, exits.
//
//   lab-paperweb load --target ADDR:PORT [--clients 8] [--seconds 60]
//                     [--timeout-ms 15000]
//       --clients concurrent virtual clients, each walking the paper's
//       40-item agenda (37 static items, 3 CGI: the board list at item 2,
//       the form and the POST at items 10 and 11, as in its Fig. 9) over
//       and over, one new connection per item, until --seconds are up.
//       Prints "requests N errors E static S cgi C" per server and in total.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Opts {
  std::string mode, listen = "0.0.0.0", name = "rs", target;
  int port = 80, cgiKb = 3500, cgiMs = 3000, cgiCpuMs = 100, clients = 8, seconds = 60,
      timeoutMs = 15000;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "lab-paperweb: %s\nusage: lab-paperweb serve|load [options] (see source)\n",
               why);
  std::exit(1);
}

double now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double cpuNow() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void writeAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

std::string answer(const std::string& body) {
  return "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

// Reads the request head (bounded, 2 s); returns the path or "".
std::string readPath(int fd) {
  std::string req;
  char buf[512];
  double end = now() + 2;
  while (req.size() < 4096 && req.find("\r\n\r\n") == std::string::npos &&
         req.find("\n\n") == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    int left = static_cast<int>((end - now()) * 1000);
    if (left <= 0 || poll(&p, 1, left) <= 0) break;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    req.append(buf, static_cast<size_t>(n));
  }
  size_t sp1 = req.find(' ');
  if (sp1 == std::string::npos) return "";
  size_t sp2 = req.find(' ', sp1 + 1);
  return req.substr(sp1 + 1, sp2 == std::string::npos ? std::string::npos : sp2 - sp1 - 1);
}

void cgiChild(int fd, const Opts& o) {
  double start = now();
  size_t bytes = static_cast<size_t>(o.cgiKb) * 1024;
  char* mem = static_cast<char*>(std::malloc(bytes));
  if (mem) std::memset(mem, 0x5a, bytes);  // touch every page: resident memory
  double cpuEnd = cpuNow() + o.cgiCpuMs / 1000.0;
  volatile uint64_t x = 0;
  while (cpuNow() < cpuEnd) x = x + 1;
  double left = start + o.cgiMs / 1000.0 - now();
  if (left > 0) usleep(static_cast<useconds_t>(left * 1e6));
  writeAll(fd, answer(o.name + " cgi\n"));
  std::free(mem);
  close(fd);
  _exit(0);
}

int serve(const Opts& o) {
  signal(SIGCHLD, SIG_IGN);  // children are reaped by the kernel
  signal(SIGPIPE, SIG_IGN);
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(o.port));
  if (inet_pton(AF_INET, o.listen.c_str(), &sa.sin_addr) != 1) usage("bad --listen");
  if (bind(ls, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(ls, 256) != 0) {
    std::perror("lab-paperweb: bind/listen");
    return 1;
  }
  std::string staticBody = o.name + " static\n" + std::string(1024, '.') + "\n";
  while (true) {
    int fd = accept4(ls, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::string path = readPath(fd);
    if (path.rfind("/cgi", 0) == 0) {
      pid_t pid = fork();
      if (pid == 0) {
        close(ls);
        cgiChild(fd, o);
      }
      close(fd);  // the child answers
      continue;
    }
    writeAll(fd, answer(staticBody));
    close(fd);
  }
}

struct Tally {
  std::mutex mu;
  std::map<std::string, std::pair<uint64_t, uint64_t>> perServer;  // static, cgi
  std::atomic<uint64_t> requests{0}, errors{0};
};

bool fetch(const sockaddr_in& sa, const std::string& path, int timeoutMs, std::string& body) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{timeoutMs / 1000, (timeoutMs % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  bool ok = connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0;
  if (ok) {
    writeAll(fd, "GET " + path + " HTTP/1.0\r\nHost: vip\r\n\r\n");
    char buf[4096];
    std::string in;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) in.append(buf, static_cast<size_t>(n));
    size_t head = in.find("\r\n\r\n");
    ok = in.rfind("HTTP/1.0 200", 0) == 0 && head != std::string::npos;
    if (ok) body = in.substr(head + 4);
  }
  close(fd);
  return ok;
}

int load(const Opts& o) {
  size_t colon = o.target.rfind(':');
  if (colon == std::string::npos) usage("--target ADDR:PORT");
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::atoi(o.target.c_str() + colon + 1)));
  if (inet_pton(AF_INET, o.target.substr(0, colon).c_str(), &sa.sin_addr) != 1)
    usage("bad --target address");
  // The agenda: 40 items, CGI at 2, 10 and 11 (Fig. 9's board list, form, POST).
  std::vector<std::string> agenda;
  for (int i = 1; i <= 40; ++i)
    agenda.push_back(i == 2 ? "/cgi/board" : i == 10 ? "/cgi/form" : i == 11 ? "/cgi/post"
                                                     : "/static/" + std::to_string(i));
  Tally tally;
  double end = now() + o.seconds;
  std::vector<std::thread> threads;
  for (int c = 0; c < o.clients; ++c)
    threads.emplace_back([&, c] {
      size_t i = static_cast<size_t>(c) * 7 % agenda.size();  // clients start at different items
      while (now() < end) {
        const std::string& path = agenda[i];
        i = (i + 1) % agenda.size();
        std::string body;
        ++tally.requests;
        if (!fetch(sa, path, o.timeoutMs, body)) {
          ++tally.errors;
          continue;
        }
        std::string server = body.substr(0, body.find(' '));
        std::lock_guard<std::mutex> lock(tally.mu);
        auto& t = tally.perServer[server];
        (path.rfind("/cgi", 0) == 0 ? t.second : t.first)++;
      }
    });
  for (auto& t : threads) t.join();
  uint64_t s = 0, g = 0;
  for (const auto& [name, t] : tally.perServer) {
    std::printf("server %s static %llu cgi %llu\n", name.c_str(),
                static_cast<unsigned long long>(t.first), static_cast<unsigned long long>(t.second));
    s += t.first;
    g += t.second;
  }
  std::printf("requests %llu errors %llu static %llu cgi %llu\n",
              static_cast<unsigned long long>(tally.requests.load()),
              static_cast<unsigned long long>(tally.errors.load()),
              static_cast<unsigned long long>(s), static_cast<unsigned long long>(g));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) usage("need a mode");
  Opts o;
  o.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + a).c_str());
    std::string v = argv[++i];
    if (a == "--listen") o.listen = v;
    else if (a == "--port") o.port = std::atoi(v.c_str());
    else if (a == "--name") o.name = v;
    else if (a == "--cgi-kb") o.cgiKb = std::atoi(v.c_str());
    else if (a == "--cgi-ms") o.cgiMs = std::atoi(v.c_str());
    else if (a == "--cgi-cpu-ms") o.cgiCpuMs = std::atoi(v.c_str());
    else if (a == "--target") o.target = v;
    else if (a == "--clients") o.clients = std::max(1, std::atoi(v.c_str()));
    else if (a == "--seconds") o.seconds = std::max(1, std::atoi(v.c_str()));
    else if (a == "--timeout-ms") o.timeoutMs = std::max(100, std::atoi(v.c_str()));
    else usage(("unknown option " + a).c_str());
  }
  if (o.mode == "serve") return serve(o);
  if (o.mode == "load") return load(o);
  usage("mode is serve or load");
}
