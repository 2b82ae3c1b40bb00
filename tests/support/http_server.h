// A loopback HTTP/1.1 server for the HTTP client's tests: 127.0.0.1 on a port of the kernel's choosing,
// one connection at a time on a background thread, "Connection: close" after every response.
//
// It honours nothing by itself: the test's handler decides each reply (a redirect, a 206 for a Range it
// parses, a 404). The server adds Content-Length (the body's size) and Connection: close to the
// handler's headers, and sends no body to a HEAD. Request bodies are not read. Failure knobs on a reply:
// send_bytes sends only the first bytes of the body and closes the connection, the Content-Length
// still the full size (a dropped connection); omit_content_length sends no Content-Length, the body
// ending when the connection closes.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace stilts::testing {

class HttpServer {
 public:
  struct Request {
    std::string method;
    std::string path;                            // without the query
    std::map<std::string, std::string> headers;  // names lower-cased, values trimmed
  };

  struct Reply {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::optional<size_t> send_bytes;  // send only this many bytes of the body, then close
    bool omit_content_length = false;
  };

  using Handler = std::function<Reply(const Request&)>;

  // Listens at once; std::runtime_error when it cannot. A handler that throws answers 500 with the
  // exception's message.
  explicit HttpServer(Handler handler);
  // Stops the thread: shuts the listening socket down, which ends its accept().
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // "http://127.0.0.1:<port>"
  std::string url() const;
  // The requests received so far, in order.
  std::vector<Request> requests() const;

 private:
  void serve();
  void serve_connection(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<Request> requests_;
  std::thread thread_;
};

}  // namespace stilts::testing
