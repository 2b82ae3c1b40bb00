// `stilts fetch`: a model downloaded from the Hugging Face hub into the cache huggingface_hub uses
// (hub/cache.h), over the hub's HTTP API:
//   GET  {endpoint}/api/models/{id}/revision/{revision}    the commit ("sha") and the file list ("siblings")
//   HEAD {endpoint}/{id}/resolve/{commit}/{file}            X-Repo-Commit; ETag, or for LFS files
//                                                           X-Linked-Etag (the SHA-256) and X-Linked-Size
//   GET  the same URL, redirects followed                  the bytes
// Only the files a model needs: config.json, the weights (model.safetensors, or its index and shards,
// else pytorch_model.bin likewise) and the tokenizer files stilts and transformers read. Each blob is
// downloaded to blobs/<etag>.incomplete (resumed with a Range request after an interruption), its size
// and, for LFS files, its SHA-256 checked, then renamed into place; the snapshot's symlinks and
// refs/<revision> are written after it, so nothing half-written is ever in snapshots/.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "hub/cache.h"

namespace stilts::hub {

struct FetchOptions {
  std::string revision = "main";
  std::string endpoint;  // "" = $HF_ENDPOINT, else https://huggingface.co
  std::string token;     // "" = $HF_TOKEN, else the token file ($HF_TOKEN_PATH, else $HF_HOME/token), else none
  std::ostream* log = nullptr;  // progress lines (none when null)
};

// Downloads `repo` at `options.revision` into the cache and returns where it is. With HF_HUB_OFFLINE=1
// nothing is downloaded: the cached snapshot, or an InputError saying it is not cached. InputError for a
// repository or revision the hub does not have (404), a gated or private one without a token that may
// read it (401/403), a body that is cut short (what arrived stays for the next run to resume), a SHA-256
// that does not match (the bytes are deleted), a file that cannot be written (a full disk).
ResolvedModel fetch_model(const std::string& repo, const FetchOptions& options);

// Of a repository's files, those a model needs (see the header), in a fixed order. InputError naming
// `repo` when there is no config.json or no weights.
std::vector<std::string> model_files(const std::vector<std::string>& files, const std::string& repo);

}  // namespace stilts::hub
