#include <catch2/catch.hpp>

#include "common/text.hpp"
#include "sidecar/last_lines.hpp"

using namespace healthgate::sidecar;

namespace {
std::vector<std::string> texts(const LastLines& tail) {
    std::vector<std::string> out;
    for (const OutputLine& line : tail.lines()) out.push_back(line.text);
    return out;
}
}  // namespace

TEST_CASE("last lines: complete lines in order, partial line last") {
    LastLines tail(1024);
    tail.append(OutputStream::out, "one\ntwo\nthr");
    tail.append(OutputStream::out, "ee\nfour");
    CHECK(texts(tail) == std::vector<std::string>{"one", "two", "three", "four"});
    auto lines = tail.lines();
    CHECK(lines[2].complete);
    CHECK_FALSE(lines[3].complete);
}

TEST_CASE("last lines: streams keep their own partial lines") {
    LastLines tail(1024);
    tail.append(OutputStream::out, "starting ");
    tail.append(OutputStream::err, "FATAL: boom\n");
    tail.append(OutputStream::out, "done\n");
    auto lines = tail.lines();
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].text == "FATAL: boom");
    CHECK(lines[0].stream == OutputStream::err);
    CHECK(lines[1].text == "starting done");
    CHECK(lines[1].stream == OutputStream::out);
}

TEST_CASE("last lines: bounded in bytes, oldest dropped first") {
    LastLines tail(20);
    for (int i = 0; i < 100; ++i) tail.append(OutputStream::out, "line " + std::to_string(i) + "\n");
    auto got = texts(tail);
    REQUIRE_FALSE(got.empty());
    CHECK(got.back() == "line 99");
    std::size_t bytes = 0;
    for (const auto& t : got) bytes += t.size() + 1;
    CHECK(bytes <= 20);
}

TEST_CASE("last lines: an overlong line keeps its end and is marked cut") {
    LastLines tail(4096, 10);
    tail.append(OutputStream::out, std::string(30, 'x') + "0123456789\nshort\n");
    auto lines = tail.lines();
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].text == "0123456789");
    CHECK(lines[0].cut_head);
    CHECK(printable(lines[0], 100) == "\xE2\x80\xA6" "0123456789");
    CHECK(lines[1].text == "short");
}

TEST_CASE("last lines: a long line written in pieces keeps its end") {
    LastLines tail(4096, 10);
    tail.append(OutputStream::out, "abcdefgh");
    tail.append(OutputStream::out, "ijklmn\n");
    auto lines = tail.lines();
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].text == "efghijklmn");
    CHECK(lines[0].cut_head);
}

TEST_CASE("printable: a line longer than asked keeps its end after a cut marker") {
    OutputLine line;
    line.text = "{\"level\":\"info\",\"padding\":\"" + std::string(500, 'p') + "\",\"error\":\"disk full\"}";
    std::string out = printable(line, 60);
    CHECK(out.size() <= 60);
    CHECK(out.rfind("\xE2\x80\xA6", 0) == 0);
    CHECK(out.find("\"error\":\"disk full\"}") != std::string::npos);
}

TEST_CASE("last lines: skipped output cuts the partial line in progress") {
    LastLines tail(4096);
    tail.append(OutputStream::out, "complete\npartial-begin");
    tail.skip(OutputStream::out, 100000);
    tail.append(OutputStream::out, "-end of a long line\nnext\n");
    auto lines = tail.lines();
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].text == "complete");
    CHECK(lines[1].text == "-end of a long line");
    CHECK(lines[1].cut_head);
    CHECK(printable(lines[1], 100) == "\xE2\x80\xA6-end of a long line");
    CHECK_FALSE(lines[2].cut_head);
}

TEST_CASE("last lines: blank lines and CRLF") {
    LastLines tail(4096);
    tail.append(OutputStream::out, "a\r\n\n   \r\nb\n");
    CHECK(texts(tail) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("printable: escapes, carriage returns, control bytes, invalid UTF-8") {
    OutputLine line;
    line.text = "\x1b[31mERROR\x1b[0m: bad";
    CHECK(printable(line, 100) == "ERROR: bad");
    line.text = "10%\r50%\r100% done";
    CHECK(printable(line, 100) == "100% done");
    line.text = std::string("a\x01\x7f\tb");
    CHECK(printable(line, 100) == "a b");
    line.text = "bad \xff\xfe byte";
    CHECK(printable(line, 100) == "bad \xEF\xBF\xBD\xEF\xBF\xBD byte");
    line.text = "\x1b]0;title\x07visible";
    CHECK(printable(line, 100) == "visible");
}

TEST_CASE("printable: a line whose head was skipped does not start inside a character") {
    OutputLine line;
    line.text = "\x82\xAC euro";  // the tail of a 3-byte "€"
    line.cut_head = true;
    CHECK(printable(line, 100) == "\xE2\x80\xA6 euro");
}

TEST_CASE("printable: never longer than asked, cut at a character boundary") {
    OutputLine line;
    line.text = "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9";  // ééééé (10 bytes)
    for (std::size_t max = 3; max <= 12; ++max) {
        std::string out = printable(line, max);
        CHECK(out.size() <= max);
        CHECK(healthgate::utf8_sanitize(out) == out);
    }
}

TEST_CASE("pick_quote: the error line over the stack trace after it") {
    LastLines tail(8192);
    tail.append(OutputStream::err,
                "starting\npanic: runtime error: index out of range [3] with length 3\n\ngoroutine 1 [running]:\n"
                "main.main()\n\t/app/main.go:8 +0x1d\nexit status 2\n");
    auto lines = tail.lines();
    int index = pick_quote(lines);
    REQUIRE(index >= 0);
    CHECK(lines[static_cast<std::size_t>(index)].text == "panic: runtime error: index out of range [3] with length 3");
}

TEST_CASE("pick_quote: the last non-blank line when nothing reads like an error") {
    LastLines tail(8192);
    tail.append(OutputStream::out, "listening on :8080\nshutting down\n");
    auto lines = tail.lines();
    CHECK(pick_quote(lines) == 1);
    CHECK(pick_quote({}) == -1);
}

TEST_CASE("pick_quote: Python traceback quotes the exception line") {
    LastLines tail(8192);
    tail.append(OutputStream::err,
                "Traceback (most recent call last):\n  File \"app.py\", line 3, in <module>\n"
                "    connect()\nKeyError: 'DATABASE_URL'\n");
    auto lines = tail.lines();
    CHECK(lines[static_cast<std::size_t>(pick_quote(lines))].text == "KeyError: 'DATABASE_URL'");
}

TEST_CASE("blank lines: control bytes only count as blank, also when cut") {
    OutputLine zeros;
    zeros.text = std::string(10, '\0');
    zeros.cut_head = true;
    CHECK(is_blank(zeros));
    OutputLine words;
    words.text = "x";
    CHECK_FALSE(is_blank(words));
    std::vector<OutputLine> lines = {words, zeros};
    CHECK(pick_quote(lines) == 0);
}
