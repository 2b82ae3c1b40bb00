// libcurl's easy interface, one handle a call. Headers: libcurl hands over every header line of every
// response of a transfer (each redirect, a 100 Continue); a status line "HTTP/..." starts a new response,
// so the map keeps those of the last one only.
//
// Callbacks run inside libcurl's C code: an exception must not cross it. Each callback catches what its
// body throws (a file that cannot be written, a Progress that throws), keeps the first exception and
// returns a short count, which stops the transfer; perform() then throws that exception rather than
// curl's "Failed writing received data".
//
// Downloads decide what to do with the file once the final response's status is known (at its first
// body byte, or at the end for an empty body): 200 truncates the file and writes from the start, 206
// appends when its Content-Range starts where the file ends, any other status discards the body and
// leaves the file alone. Bytes go to the file with write(2) as they arrive, so a transfer that fails
// midway leaves them on disk for the next attempt.
#include "hub/http.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <memory>
#include <string_view>

#include "common/error.h"
#include "common/strings.h"

namespace stilts::hub {

namespace fs = std::filesystem;

std::string HttpResponse::header(const std::string& name) const {
  const auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

namespace {

// At most this many redirects a request (the hub sends one, to its CDN).
constexpr long kMaxRedirects = 10;

// curl_global_init once for the process; the function-local static makes it thread-safe.
void init_curl() {
  static const CURLcode result = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (result != CURLE_OK) input_error("libcurl: cannot initialise (", curl_easy_strerror(result), ")");
}

std::string_view trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1);
}

struct EasyCleanup {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistCleanup {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// Receives the body as it arrives.
using BodySink = std::function<void(std::string_view bytes)>;

// One request on its own easy handle (which holds `this` for the callbacks: no copies).
class Transfer {
 public:
  // `extra_header`: one more request header line after request.headers ("" for none).
  Transfer(const HttpRequest& request, const std::string& extra_header) : url_(request.url) {
    STILTS_CHECK(request.method == "GET" || request.method == "HEAD", "HTTP method ", request.method);
    init_curl();
    curl_.reset(curl_easy_init());
    if (!curl_) input_error(url_, ": libcurl cannot create a handle");
    for (const std::string& line : request.headers) add_request_header(line);
    if (!extra_header.empty()) add_request_header(extra_header);
    set(CURLOPT_URL, url_.c_str());
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    set(CURLOPT_USERAGENT, "stilts");
    set(CURLOPT_HTTPHEADER, request_headers_.get());
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_FAILONERROR, 0L);
    set(CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
    set(CURLOPT_MAXREDIRS, kMaxRedirects);
    set(CURLOPT_NOBODY, request.method == "HEAD" ? 1L : 0L);
    set(CURLOPT_CONNECTTIMEOUT, request.connect_timeout_seconds);
    if (request.stall_timeout_seconds > 0) {
      set(CURLOPT_LOW_SPEED_LIMIT, 1L);
      set(CURLOPT_LOW_SPEED_TIME, request.stall_timeout_seconds);
    }
    set(CURLOPT_ERRORBUFFER, error_);
    set(CURLOPT_HEADERFUNCTION, &Transfer::on_header);
    set(CURLOPT_HEADERDATA, this);
    set(CURLOPT_WRITEFUNCTION, &Transfer::on_body);
    set(CURLOPT_WRITEDATA, this);
  }
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  // Runs the request (once per Transfer), the body into `sink`. InputError naming the URL on a transport
  // failure (or the exception a callback threw).
  HttpResponse perform(const BodySink& sink) {
    sink_ = &sink;
    error_[0] = '\0';
    const CURLcode result = curl_easy_perform(curl_.get());
    sink_ = nullptr;
    if (failure_) std::rethrow_exception(failure_);
    if (result != CURLE_OK) input_error(url_, ": ", error_[0] != '\0' ? error_ : curl_easy_strerror(result));
    response_.status = status();
    char* effective_url = nullptr;
    curl_easy_getinfo(curl_.get(), CURLINFO_EFFECTIVE_URL, &effective_url);
    response_.effective_url = effective_url != nullptr ? effective_url : url_;
    return std::move(response_);
  }

  // While the body arrives, these describe the response it belongs to.
  long status() const {
    long code = 0;
    curl_easy_getinfo(curl_.get(), CURLINFO_RESPONSE_CODE, &code);
    return code;
  }
  // Its Content-Length, -1 when it announced none.
  int64_t content_length() const {
    curl_off_t length = -1;
    curl_easy_getinfo(curl_.get(), CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
    return length;
  }
  std::string header(const std::string& name) const { return response_.header(name); }
  const std::string& url() const { return url_; }

 private:
  template <typename Value>
  void set(CURLoption option, Value value) {
    const CURLcode result = curl_easy_setopt(curl_.get(), option, value);
    if (result != CURLE_OK) input_error(url_, ": libcurl option ", option, ": ", curl_easy_strerror(result));
  }

  void add_request_header(const std::string& line) {
    curl_slist* list = curl_slist_append(request_headers_.get(), line.c_str());
    if (list == nullptr) input_error(url_, ": libcurl cannot add the header '", line, "'");
    if (!request_headers_) request_headers_.reset(list);  // appending keeps the head of a list
  }

  // Runs `body` for a callback that was handed `bytes`: their count when it returns, 0 (which stops the
  // transfer) when it throws, the exception kept for perform().
  template <typename Body>
  size_t guarded(size_t bytes, Body&& body) {
    try {
      body();
      return bytes;
    } catch (...) {
      if (!failure_) failure_ = std::current_exception();
      return 0;
    }
  }

  static size_t on_header(char* data, size_t size, size_t count, void* user) {
    auto& self = *static_cast<Transfer*>(user);
    const std::string_view line(data, size * count);
    return self.guarded(line.size(), [&] {
      if (line.rfind("HTTP/", 0) == 0) {
        self.response_.headers.clear();  // the status line of the next response
        return;
      }
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos) return;  // the blank line that ends a head
      self.response_.headers[ascii_lower(trim(line.substr(0, colon)))] = std::string(trim(line.substr(colon + 1)));
    });
  }

  static size_t on_body(char* data, size_t size, size_t count, void* user) {
    auto& self = *static_cast<Transfer*>(user);
    const std::string_view bytes(data, size * count);
    return self.guarded(bytes.size(), [&] { (*self.sink_)(bytes); });
  }

  std::string url_;
  std::unique_ptr<curl_slist, SlistCleanup> request_headers_;
  char error_[CURL_ERROR_SIZE] = {};
  HttpResponse response_;  // the headers as they arrive; the rest at the end
  const BodySink* sink_ = nullptr;
  std::exception_ptr failure_;
  // Last: the handle goes first, before the header list and buffers it points to.
  std::unique_ptr<CURL, EasyCleanup> curl_;
};

// The download's side of one attempt: opens `file` once the final response's status says how, writes the
// body into it and reports progress. `size` is the file's size when the request went out (the Range asked
// for the bytes from there).
class FileWriter {
 public:
  FileWriter(const fs::path& file, int64_t size, const Progress& progress)
      : file_(file), size_(size), progress_(progress) {}
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;
  ~FileWriter() {
    if (fd_ >= 0) ::close(fd_);
  }

  void write(const Transfer& transfer, std::string_view bytes) {
    if (!started_) start(transfer);
    if (fd_ < 0) return;  // a status whose body does not belong in the file
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        input_error(file_.string(), ": cannot write (", std::strerror(errno), ")");
      }
      bytes.remove_prefix(static_cast<size_t>(n));
      done_ += n;
    }
    if (progress_) progress_(done_, total_);
  }

  // After a transfer that succeeded: a 200 or 206 with an empty body still sets the file (a 200 empties
  // it), and the close reports a late write error (e.g. a full disk on a network file system).
  void finish(const Transfer& transfer) {
    if (!started_) start(transfer);
    if (fd_ < 0) return;
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) input_error(file_.string(), ": cannot write (", std::strerror(errno), ")");
  }

 private:
  void start(const Transfer& transfer) {
    started_ = true;
    const long status = transfer.status();
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC;
    if (status == 200) {
      flags |= O_TRUNC;
      done_ = 0;
    } else if (status == 206) {
      // Appending is right only for the bytes that follow the file's last one.
      const std::string range = transfer.header("content-range");
      if (range.rfind("bytes " + std::to_string(size_) + "-", 0) != 0) {
        input_error(transfer.url(), ": asked for the bytes from ", size_, " (", file_.string(),
                    " holds the ones before), the server answered 206 with Content-Range '", range, "'");
      }
      flags |= O_APPEND;
      done_ = size_;
    } else {
      return;
    }
    const int64_t length = transfer.content_length();
    total_ = length >= 0 ? done_ + length : -1;
    fd_ = ::open(file_.c_str(), flags, 0644);
    if (fd_ < 0) input_error(file_.string(), ": cannot open for writing (", std::strerror(errno), ")");
  }

  const fs::path& file_;
  const int64_t size_;
  const Progress& progress_;
  bool started_ = false;
  int fd_ = -1;
  int64_t done_ = 0;
  int64_t total_ = -1;
};

// The size of `file` when it is a regular file holding bytes, else 0 (nothing to resume).
int64_t resumable_size(const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) return 0;
  const auto size = fs::file_size(file, ec);
  return ec ? 0 : static_cast<int64_t>(size);
}

}  // namespace

HttpResponse http_request(const HttpRequest& request) {
  Transfer transfer(request, "");
  std::string body;
  HttpResponse response = transfer.perform([&](std::string_view bytes) { body.append(bytes); });
  response.body = std::move(body);
  return response;
}

HttpResponse http_download(const HttpRequest& request, const fs::path& file, const Progress& progress) {
  STILTS_CHECK(request.method == "GET", "a download is a GET, not ", request.method);
  int64_t size = resumable_size(file);
  while (true) {
    Transfer transfer(request, size > 0 ? "Range: bytes=" + std::to_string(size) + "-" : "");
    FileWriter writer(file, size, progress);
    HttpResponse response =
        transfer.perform([&](std::string_view bytes) { writer.write(transfer, bytes); });
    writer.finish(transfer);
    // 416: nothing from `size` on. The file is complete when the server's length is its size; otherwise
    // (a file longer than the server's, a changed one) start again without a Range, once: size is 0 then.
    if (response.status == 416 && size > 0) {
      if (response.header("content-range") == "bytes */" + std::to_string(size)) return response;
      size = 0;
      continue;
    }
    return response;
  }
}

}  // namespace stilts::hub
