#include "alerthub/delivery/channels/mime.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace alerthub {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> Lines(const std::string& s) { return absl::StrSplit(s, "\r\n"); }

// Decodes what EncodeUnstructuredHeader wrote ("Subject: ..." with
// continuation lines) back to the text, per RFC 2047 (whitespace between
// encoded-words dropped) and RFC 5322 unfolding.
std::string DecodeHeaderValue(const std::string& field) {
  std::string unfolded;
  for (const std::string& line : Lines(field)) unfolded += line;
  absl::string_view value = unfolded;
  value.remove_prefix(value.find(':') + 2);
  if (!absl::StartsWith(value, "=?")) return std::string(value);
  std::string out;
  for (absl::string_view word : absl::StrSplit(value, ' ', absl::SkipEmpty())) {
    EXPECT_TRUE(absl::ConsumePrefix(&word, "=?UTF-8?B?")) << word;
    EXPECT_TRUE(absl::ConsumeSuffix(&word, "?=")) << word;
    std::string bytes;
    EXPECT_TRUE(absl::Base64Unescape(word, &bytes));
    out += bytes;
  }
  return out;
}

bool IsWholeUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (n == 0 || i + n > s.size()) return false;
    i += n;
  }
  return true;
}

TEST(QuotedPrintableTest, EncodesWhatMustBeEncoded) {
  EXPECT_EQ(EncodeQuotedPrintable("plain text"), "plain text");
  EXPECT_EQ(EncodeQuotedPrintable("a=b"), "a=3Db");
  EXPECT_EQ(EncodeQuotedPrintable("é"), "=C3=A9");
  EXPECT_EQ(EncodeQuotedPrintable("end  \nnext\tx\t"), "end =20\r\nnext\tx=09");
  EXPECT_EQ(EncodeQuotedPrintable("a\r\nb\rc\nd"), "a\r\nb\r\nc\r\nd");
  EXPECT_EQ(EncodeQuotedPrintable("From here\nFrom"), "=46rom here\r\nFrom");
  EXPECT_EQ(EncodeQuotedPrintable("bell\x07"), "bell=07");
}

TEST(QuotedPrintableTest, SoftBreaksLongLinesWithoutSplittingAnEscape) {
  const std::string long_line = std::string(74, 'a') + "éé" + std::string(100, 'b');
  const std::string qp = EncodeQuotedPrintable(long_line);
  std::string decoded;
  for (const std::string& line : Lines(qp)) {
    EXPECT_LE(line.size(), 76u);
    absl::string_view l = line;
    absl::ConsumeSuffix(&l, "=");  // a soft break
    absl::StrAppend(&decoded, l);
  }
  EXPECT_EQ(Lines(qp)[0], std::string(74, 'a') + "=");
  EXPECT_THAT(qp, HasSubstr("=C3=A9=C3=A9"));
  EXPECT_EQ(decoded.size(), 74 + 12 + 100u);
}

TEST(HeaderTest, AsciiStaysReadableAndFoldsAtSpaces) {
  EXPECT_EQ(EncodeUnstructuredHeader("Subject", "disk full on db-1"), "Subject: disk full on db-1");
  EXPECT_EQ(EncodeUnstructuredHeader("Subject", "two\r\nlines"), "Subject: two lines");
  std::string words;
  for (int i = 0; i < 30; ++i) absl::StrAppend(&words, i == 0 ? "" : " ", "word", i);
  const std::string folded = EncodeUnstructuredHeader("Subject", words);
  for (const std::string& line : Lines(folded)) EXPECT_LE(line.size(), 78u) << line;
  EXPECT_GT(Lines(folded).size(), 1u);
  EXPECT_EQ(DecodeHeaderValue(folded), words);
}

TEST(HeaderTest, NonAsciiBecomesEncodedWordsThatKeepCharactersWhole) {
  const std::string subject =
      "Déploiement terminé ✅ " + std::string(40, 'x') + " 日本語のテキスト🚀";
  const std::string field = EncodeUnstructuredHeader("Subject", subject);
  EXPECT_TRUE(absl::StartsWith(field, "Subject: =?UTF-8?B?"));
  for (const std::string& line : Lines(field)) {
    EXPECT_LE(line.size(), 78u) << line;
    absl::string_view word = absl::StripLeadingAsciiWhitespace(line);
    absl::ConsumePrefix(&word, "Subject: ");
    EXPECT_LE(word.size(), 75u) << word;
    absl::ConsumePrefix(&word, "=?UTF-8?B?");
    absl::ConsumeSuffix(&word, "?=");
    std::string bytes;
    ASSERT_TRUE(absl::Base64Unescape(word, &bytes));
    EXPECT_TRUE(IsWholeUtf8(bytes)) << "an encoded-word splits a character: " << line;
  }
  EXPECT_EQ(DecodeHeaderValue(field), subject);
  // Text that merely looks like an encoded-word is encoded too.
  EXPECT_TRUE(
      absl::StartsWith(EncodeUnstructuredHeader("Subject", "=?x?="), "Subject: =?UTF-8?B?"));
}

TEST(MessageTest, IsDeterministicAndWellFormed) {
  EmailContent c;
  c.from = "alerts@example.com";
  c.to = {"a@example.com", "b@example.com"};
  c.message_id = "<id-1@alerthub>";
  c.date = absl::FromUnixSeconds(1770106150);
  c.subject = "hello";
  c.text = "text";
  c.html = "<p>html</p>";
  const std::string m = BuildEmailMessage(c);
  EXPECT_EQ(m, BuildEmailMessage(c));
  EXPECT_TRUE(absl::StartsWith(m,
                               "From: alerts@example.com\r\n"
                               "To: a@example.com, b@example.com\r\n"
                               "Subject: hello\r\n"
                               "Date: Tue, 03 Feb 2026 08:09:10 +0000\r\n"
                               "Message-ID: <id-1@alerthub>\r\n"
                               "MIME-Version: 1.0\r\n"
                               "Auto-Submitted: auto-generated\r\n"
                               "Content-Type: multipart/alternative;\r\n"
                               " boundary=\"=_alerthub_"));
  EXPECT_TRUE(absl::EndsWith(m, "--\r\n"));
  EXPECT_EQ(FormatRfc5322Date(absl::FromUnixSeconds(0)), "Thu, 01 Jan 1970 00:00:00 +0000");
}

}  // namespace
}  // namespace alerthub
