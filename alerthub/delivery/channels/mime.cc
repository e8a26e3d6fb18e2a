#include "alerthub/delivery/channels/mime.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "alerthub/common/crypto.h"

namespace alerthub {
namespace {

constexpr absl::string_view kCrlf = "\r\n";
// RFC 5322 §2.1.1: lines SHOULD be at most 78 characters (without CRLF).
constexpr size_t kMaxLine = 78;
// RFC 2045 §6.7 rule 5: encoded lines are at most 76 characters, the soft
// break's "=" included.
constexpr size_t kMaxQpContent = 75;
// RFC 2047 §2: an encoded-word is at most 75 characters.
constexpr size_t kMaxEncodedWord = 75;
constexpr absl::string_view kWordPrefix = "=?UTF-8?B?";
constexpr absl::string_view kWordSuffix = "?=";

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// `text` with CRLF, CR and LF replaced by single spaces.
std::string OneLine(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' || text[i] == '\n') {
      if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      out.push_back(' ');
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// Whether unstructured text must be encoded: anything but printable ASCII
// and spaces, text that a reader would take for an encoded-word, or a word
// too long to fold under the 998-character hard limit.
bool NeedsEncodedWords(absl::string_view name, absl::string_view value) {
  if (absl::StrContains(value, "=?")) return true;
  size_t word = name.size() + 2;
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == ' ') {
      word = 0;
      continue;
    }
    if (c < 0x20 || c >= 0x7F) return true;
    if (++word > 998) return true;
  }
  return false;
}

// "Name: value" folded at spaces so lines stay within kMaxLine where a word
// allows.
std::string FoldAtSpaces(absl::string_view name, absl::string_view value) {
  std::string out = absl::StrCat(name, ":");
  size_t line = out.size();
  for (absl::string_view word : absl::StrSplit(value, ' ')) {
    if (line + 1 + word.size() > kMaxLine && line > 1) {
      out.append("\r\n");
      line = 0;
    }
    out.push_back(' ');
    out.append(word.data(), word.size());
    line += 1 + word.size();
  }
  return out;
}

// "Name: =?UTF-8?B?...?=" with as many encoded-words, one per line, as the
// value needs.
std::string EncodedWords(absl::string_view name, absl::string_view value) {
  std::string out = absl::StrCat(name, ":");
  size_t line = out.size();
  const size_t overhead = kWordPrefix.size() + kWordSuffix.size();
  while (!value.empty()) {
    // Characters left for base64 on this line (after the leading space), in
    // whole 4-character groups of 3 bytes.
    const size_t avail = std::min(kMaxEncodedWord, kMaxLine - std::min(kMaxLine, line + 1));
    const size_t room = avail > overhead ? avail - overhead : 0;
    size_t take = std::max<size_t>(6, room / 4 * 3);
    if (take < value.size()) {
      while (take > 0 && IsContinuation(static_cast<unsigned char>(value[take]))) --take;
      if (take == 0) take = 1;  // invalid UTF-8: any cut will do
    } else {
      take = value.size();
    }
    if (line > name.size() + 1) {
      out.append("\r\n");
      line = 0;
    }
    const std::string word =
        absl::StrCat(" ", kWordPrefix, absl::Base64Escape(value.substr(0, take)), kWordSuffix);
    out += word;
    line += word.size();
    value.remove_prefix(take);
  }
  return out;
}

// The header "To: a@x, b@y", folded after commas.
std::string AddressList(absl::string_view name, const std::vector<std::string>& addresses) {
  std::string out = absl::StrCat(name, ":");
  size_t line = out.size();
  for (size_t i = 0; i < addresses.size(); ++i) {
    const std::string piece = absl::StrCat(addresses[i], i + 1 < addresses.size() ? "," : "");
    if (i > 0 && line + 1 + piece.size() > kMaxLine) {
      out.append("\r\n");
      line = 0;
    }
    out.push_back(' ');
    out += piece;
    line += 1 + piece.size();
  }
  return out;
}

void AppendHex(unsigned char c, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out->push_back('=');
  out->push_back(kHex[c >> 4]);
  out->push_back(kHex[c & 0xF]);
}

// One line of text (no line break inside), quoted-printable, soft-broken.
void EncodeQpLine(absl::string_view line, std::string* out) {
  const bool from_line = absl::StartsWith(line, "From ");
  size_t length = 0;
  std::string piece;
  for (size_t i = 0; i < line.size(); ++i) {
    const auto c = static_cast<unsigned char>(line[i]);
    const bool last = i + 1 == line.size();
    piece.clear();
    if ((c == ' ' || c == '\t') && !last) {
      piece.push_back(static_cast<char>(c));
    } else if (c < 0x21 || c > 0x7E || c == '=' || (from_line && i == 0)) {
      AppendHex(c, &piece);
    } else {
      piece.push_back(static_cast<char>(c));
    }
    if (length + piece.size() > kMaxQpContent) {
      out->append("=\r\n");
      length = 0;
    }
    out->append(piece);
    length += piece.size();
  }
}

void AppendPart(absl::string_view content_type, absl::string_view text, std::string* out) {
  absl::StrAppend(out, "Content-Type: ", content_type, "; charset=UTF-8", kCrlf,
                  "Content-Transfer-Encoding: quoted-printable", kCrlf, kCrlf);
  out->append(EncodeQuotedPrintable(text));
}

}  // namespace

std::string FormatRfc5322Date(absl::Time t) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S +0000", t, absl::UTCTimeZone());
}

std::string EncodeQuotedPrintable(absl::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8 + 16);
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] != '\r' && text[i] != '\n') continue;
    EncodeQpLine(text.substr(start, i - start), &out);
    if (i == text.size()) break;
    out.append("\r\n");
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    start = i + 1;
  }
  return out;
}

std::string EncodeUnstructuredHeader(absl::string_view name, absl::string_view value) {
  const std::string line = OneLine(value);
  return NeedsEncodedWords(name, line) ? EncodedWords(name, line) : FoldAtSpaces(name, line);
}

std::string BuildEmailMessage(const EmailContent& content) {
  std::string out;
  out.reserve(1024 + 2 * (content.text.size() + content.html.size()));
  absl::StrAppend(&out, "From: ", content.from, kCrlf);
  absl::StrAppend(&out, AddressList("To", content.to), kCrlf);
  absl::StrAppend(&out, EncodeUnstructuredHeader("Subject", content.subject), kCrlf);
  absl::StrAppend(&out, "Date: ", FormatRfc5322Date(content.date), kCrlf);
  absl::StrAppend(&out, "Message-ID: ", content.message_id, kCrlf);
  absl::StrAppend(&out, "MIME-Version: 1.0", kCrlf);
  absl::StrAppend(&out, "Auto-Submitted: auto-generated", kCrlf);

  if (content.text.empty() || content.html.empty()) {
    AppendPart(content.html.empty() ? "text/plain" : "text/html",
               content.html.empty() ? content.text : content.html, &out);
    out.append("\r\n");
    return out;
  }
  // "=_" cannot occur in quoted-printable text ('=' is always followed by two
  // hex digits or a line break there), so the boundary never collides.
  const std::string boundary =
      absl::StrCat("=_alerthub_", HexEncode(Sha256(content.message_id)).substr(0, 24));
  absl::StrAppend(&out, "Content-Type: multipart/alternative;", kCrlf, " boundary=\"", boundary,
                  "\"", kCrlf, kCrlf);
  absl::StrAppend(&out, "This is a multi-part message in MIME format.", kCrlf);
  absl::StrAppend(&out, kCrlf, "--", boundary, kCrlf);
  AppendPart("text/plain", content.text, &out);
  absl::StrAppend(&out, kCrlf, "--", boundary, kCrlf);
  AppendPart("text/html", content.html, &out);
  absl::StrAppend(&out, kCrlf, "--", boundary, "--", kCrlf);
  return out;
}

}  // namespace alerthub
