// Building the e-mail AlertHub sends (RFC 5322 message, RFC 2045-2047 MIME):
// a multipart/alternative of a text/plain and a text/html part, UTF-8,
// quoted-printable, CRLF line ends, non-ASCII subjects as RFC 2047
// encoded-words.
//
//   std::string message = BuildEmailMessage({
//       .from = "alerts@example.com", .to = {"ops@example.com"},
//       .message_id = "<0190c2a4-...@alerthub>", .date = clock->Now(),
//       .subject = email.subject, .text = email.text, .html = email.html});
//
// Pure functions, safe to call from any thread.
#ifndef ALERTHUB_DELIVERY_CHANNELS_MIME_H_
#define ALERTHUB_DELIVERY_CHANNELS_MIME_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace alerthub {

struct EmailContent {
  // Bare addresses ("alerts@example.com").
  std::string from;
  std::vector<std::string> to;
  // With angle brackets: "<id@domain>". The same on every attempt, so
  // receivers and mail stores can dedupe retries.
  std::string message_id;
  absl::Time date;
  // UTF-8; line breaks in the subject become spaces. Borrowed: must outlive
  // the BuildEmailMessage call.
  absl::string_view subject;
  // UTF-8 bodies, borrowed like `subject`; either may be empty, not both.
  // With both, the message is multipart/alternative (text first, HTML
  // preferred by readers).
  absl::string_view text;
  absl::string_view html;
};

// The whole message: From, To, Subject, Date, Message-ID, MIME-Version,
// Auto-Submitted (RFC 3834: mail robots must not answer it), Content-Type and
// the body. Deterministic: the same content gives the same bytes (the
// multipart boundary derives from the Message-ID). Every line ends in CRLF
// and is at most 78 characters long, but for header fields holding an
// unbreakable word (a long address).
std::string BuildEmailMessage(const EmailContent& content);

// RFC 5322 date-time in UTC: "Tue, 03 Feb 2026 08:09:10 +0000".
std::string FormatRfc5322Date(absl::Time t);

// Quoted-printable (RFC 2045 §6.7) of UTF-8 text: line breaks (CRLF, LF or
// CR) become CRLF hard breaks; '=', control characters, non-ASCII bytes and
// spaces or tabs before a line break are =XX-encoded, as is the 'F' of a line
// starting "From " (mailboxes mangle those); lines are soft-broken ("=" CRLF)
// to at most 76 characters.
std::string EncodeQuotedPrintable(absl::string_view text);

// A complete header field "Name: value" (without the final CRLF) for
// unstructured text (Subject): plain ASCII folded at spaces when it fits the
// rules, otherwise RFC 2047 "=?UTF-8?B?...?=" encoded-words of at most 75
// characters, never splitting a UTF-8 character, folded onto continuation
// lines. Line breaks in `value` become spaces.
std::string EncodeUnstructuredHeader(absl::string_view name, absl::string_view value);

}  // namespace alerthub

#endif  // ALERTHUB_DELIVERY_CHANNELS_MIME_H_
