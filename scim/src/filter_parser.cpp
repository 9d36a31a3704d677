// SPDX-License-Identifier: AGPL-3.0-or-later
// A hand-written recursive-descent parser for the filter grammar of RFC 7644 §3.4.2.2:
//
//   FILTER    = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"
//   valuePath = attrPath "[" valFilter "]"
//   attrExp   = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
//   compValue = false / null / true / number / string      (JSON literals, RFC 8259)
//   attrPath  = [URI ":"] ATTRNAME *1subAttr
//
// with precedence not > and > or, and parentheses. Nesting is bounded so hostile input cannot exhaust
// the stack.
#include "scim/filter_parser.hpp"
#include "scim/user_codec.hpp"

#include <cctype>
#include <vector>

namespace idgate::scim {
namespace {

constexpr int max_depth = 32;

// ATTRNAME = ALPHA *(nameChar); nameChar = "-" / "_" / DIGIT / ALPHA. "$ref" is also an attribute name
// (RFC 7643 §2.3.7).
bool is_attr_name(std::string_view s) {
    if (s == "$ref") return true;
    if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
    return true;
}

struct failure {
    parse_error error;
};

class parser {
public:
    explicit parser(std::string_view text) : s_(text) {}

    schema::filter_ptr parse_whole() {
        auto f = parse_or(0, false);
        skip_spaces();
        if (pos_ != s_.size()) fail("unexpected '" + std::string(peek_word()) + "'");
        return f;
    }

    std::size_t position() const { return pos_; }

    [[noreturn]] void fail(std::string message) const { throw failure{{pos_, std::move(message)}}; }
    [[noreturn]] void fail_at(std::size_t at, std::string message) const { throw failure{{at, std::move(message)}}; }

    schema::filter_ptr parse_or(int depth, bool in_brackets) {
        auto left = parse_and(depth, in_brackets);
        while (accept_keyword("or")) {
            auto right = parse_and(depth, in_brackets);
            left = make(schema::logical{schema::logical::kind::or_, left, right});
        }
        return left;
    }

    // An attribute path at the current position (used for PATCH paths too).
    schema::attribute_path parse_path() {
        skip_spaces();
        const std::size_t start = pos_;
        while (pos_ < s_.size() && !std::isspace(static_cast<unsigned char>(s_[pos_])) && s_[pos_] != '(' &&
               s_[pos_] != ')' && s_[pos_] != '[' && s_[pos_] != ']' && s_[pos_] != '"')
            ++pos_;
        const auto word = s_.substr(start, pos_ - start);
        schema::attribute_path path;
        if (word.empty()) fail_at(start, "expected an attribute name");
        if (!parse_attribute_path(word, path)) fail_at(start, "'" + std::string(word) + "' is not a valid attribute path");
        return path;
    }

    void skip_spaces() {
        while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
    }
    bool at_end() const { return pos_ >= s_.size(); }
    char current() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
    void advance() { ++pos_; }

private:
    template <typename Node>
    static schema::filter_ptr make(Node n) {
        return std::make_shared<const schema::filter>(schema::filter{std::move(n)});
    }

    schema::filter_ptr parse_and(int depth, bool in_brackets) {
        auto left = parse_unary(depth, in_brackets);
        while (accept_keyword("and")) {
            auto right = parse_unary(depth, in_brackets);
            left = make(schema::logical{schema::logical::kind::and_, left, right});
        }
        return left;
    }

    schema::filter_ptr parse_unary(int depth, bool in_brackets) {
        if (depth > max_depth) fail("the filter nests deeper than " + std::to_string(max_depth) + " levels");
        skip_spaces();
        if (at_end()) fail("expected an attribute expression, 'not' or '('");
        if (accept_keyword("not")) {
            skip_spaces();
            if (current() != '(') fail("expected '(' after 'not'");
            return make(schema::negation{parse_group(depth + 1, in_brackets)});
        }
        if (current() == '(') return parse_group(depth + 1, in_brackets);
        return parse_attribute_expression(depth, in_brackets);
    }

    schema::filter_ptr parse_group(int depth, bool in_brackets) {
        const std::size_t open = pos_;
        advance();  // (
        auto inner = parse_or(depth, in_brackets);
        skip_spaces();
        if (current() != ')') fail_at(at_end() ? open : pos_, at_end() ? "unbalanced '('" : "expected ')'");
        advance();
        return inner;
    }

    schema::filter_ptr parse_attribute_expression(int depth, bool in_brackets) {
        const std::size_t start = pos_;
        auto path = parse_path();
        if (current() == '[') {
            if (in_brackets) fail("a value filter cannot contain another '[...]'");
            if (!path.sub_attribute.empty()) fail_at(start, "a value filter applies to a whole attribute, not a sub-attribute");
            advance();
            auto inner = parse_or(depth + 1, true);
            skip_spaces();
            if (current() != ']') fail(at_end() ? "unbalanced '['" : "expected ']'");
            advance();
            if (current() == '.') {
                // emails[type eq "work"].value eq "x": Entra ID filters users this way (INTEROP E2). RFC 7644's
                // filter grammar has it only as a PATCH path, but its meaning is plain:
                // emails[type eq "work" and value eq "x"].
                advance();
                const std::size_t sub_at = pos_;
                schema::attribute_path sub;
                while (std::isalnum(static_cast<unsigned char>(current())) || current() == '_' || current() == '-' ||
                       current() == '$') {
                    sub.attribute += current();
                    advance();
                }
                if (sub.attribute.empty()) fail_at(sub_at, "expected a sub-attribute name after '].'");
                auto compared = parse_comparison(std::move(sub));
                inner = make(schema::logical{schema::logical::kind::and_, std::move(inner), std::move(compared)});
            }
            return make(schema::value_path{std::move(path), std::move(inner)});
        }
        return parse_comparison(std::move(path));
    }

    // The operator and value after an attribute path.
    schema::filter_ptr parse_comparison(schema::attribute_path path) {
        if (current() != ' ') fail("expected a space and an operator after '" + path.to_string() + "'");
        skip_spaces();
        const std::size_t op_at = pos_;
        const auto word = take_word();
        schema::comparison c;
        c.path = std::move(path);
        if (!parse_op(word, c.op))
            fail_at(op_at, "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr), found '" +
                               std::string(word) + "'");
        if (c.op == schema::compare_op::pr) return make(std::move(c));
        if (current() != ' ') fail("expected a space and a value after '" + std::string(word) + "'");
        skip_spaces();
        c.value = parse_value();
        return make(std::move(c));
    }

    static bool parse_op(std::string_view w, schema::compare_op& op) {
        using schema::compare_op;
        static constexpr std::pair<std::string_view, compare_op> ops[] = {
            {"eq", compare_op::eq}, {"ne", compare_op::ne}, {"co", compare_op::co}, {"sw", compare_op::sw},
            {"ew", compare_op::ew}, {"gt", compare_op::gt}, {"ge", compare_op::ge}, {"lt", compare_op::lt},
            {"le", compare_op::le}, {"pr", compare_op::pr}};
        for (const auto& [name, value] : ops)
            if (iequals(w, name)) {
                op = value;
                return true;
            }
        return false;
    }

    schema::filter_value parse_value() {
        schema::filter_value v;
        const std::size_t start = pos_;
        if (current() == '"') {
            v.type = schema::filter_value::kind::string;
            v.text = parse_string();
            return v;
        }
        const auto word = take_word();
        if (iequals(word, "true") || iequals(word, "false")) {
            v.type = schema::filter_value::kind::boolean;
            v.boolean = iequals(word, "true");
        } else if (iequals(word, "null")) {
            v.type = schema::filter_value::kind::null;
        } else if (is_json_number(word)) {
            v.type = schema::filter_value::kind::number;
            v.text = std::string(word);
        } else if (word.empty()) {
            fail_at(start, "expected a value (a \"string\", number, true, false or null)");
        } else {
            fail_at(start, "'" + std::string(word) +
                               "' is not a value: strings must be in double quotes, or use a number, true, false or null");
        }
        return v;
    }

    static bool is_json_number(std::string_view w) {
        std::size_t i = 0;
        if (i < w.size() && w[i] == '-') ++i;
        if (i >= w.size() || !std::isdigit(static_cast<unsigned char>(w[i]))) return false;
        if (w[i] == '0' && i + 1 < w.size() && std::isdigit(static_cast<unsigned char>(w[i + 1]))) return false;
        while (i < w.size() && std::isdigit(static_cast<unsigned char>(w[i]))) ++i;
        if (i < w.size() && w[i] == '.') {
            ++i;
            if (i >= w.size() || !std::isdigit(static_cast<unsigned char>(w[i]))) return false;
            while (i < w.size() && std::isdigit(static_cast<unsigned char>(w[i]))) ++i;
        }
        if (i < w.size() && (w[i] == 'e' || w[i] == 'E')) {
            ++i;
            if (i < w.size() && (w[i] == '+' || w[i] == '-')) ++i;
            if (i >= w.size() || !std::isdigit(static_cast<unsigned char>(w[i]))) return false;
            while (i < w.size() && std::isdigit(static_cast<unsigned char>(w[i]))) ++i;
        }
        return i == w.size();
    }

    // A JSON string (RFC 8259 §7), unescaped.
    std::string parse_string() {
        const std::size_t open = pos_;
        advance();
        std::string out;
        while (!at_end()) {
            const char c = current();
            if (c == '"') {
                advance();
                return out;
            }
            if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
            if (c != '\\') {
                out += c;
                advance();
                continue;
            }
            advance();
            const char e = current();
            advance();
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': append_utf8(out, read_hex4()); break;
                default: fail_at(pos_ - 2, "invalid escape in string");
            }
        }
        fail_at(open, "unterminated string");
    }

    unsigned read_hex4() {
        if (pos_ + 4 > s_.size()) fail("incomplete \\u escape");
        unsigned v = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = s_[pos_++];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
            else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
            else fail_at(pos_ - 1, "invalid \\u escape");
        }
        return v;
    }

    void append_utf8(std::string& out, unsigned cp) {
        if (cp >= 0xD800 && cp <= 0xDBFF) {  // a surrogate pair
            if (pos_ + 6 > s_.size() || s_[pos_] != '\\' || s_[pos_ + 1] != 'u') fail("unpaired surrogate in \\u escape");
            pos_ += 2;
            const unsigned low = read_hex4();
            if (low < 0xDC00 || low > 0xDFFF) fail("unpaired surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail("unpaired surrogate in \\u escape");
        }
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    std::string_view take_word() {
        const std::size_t start = pos_;
        while (pos_ < s_.size() && s_[pos_] != ' ' && s_[pos_] != '(' && s_[pos_] != ')' && s_[pos_] != '[' &&
               s_[pos_] != ']')
            ++pos_;
        return s_.substr(start, pos_ - start);
    }

    std::string_view peek_word() const {
        std::size_t end = pos_;
        while (end < s_.size() && s_[end] != ' ') ++end;
        return s_.substr(pos_, end - pos_);
    }

    // "and"/"or" need a space before them (RFC 7644: SP); every keyword needs a space or '(' after it.
    bool accept_keyword(std::string_view keyword) {
        const std::size_t saved = pos_;
        skip_spaces();
        const bool spaced_before = pos_ > saved || keyword == "not";
        if (spaced_before && pos_ + keyword.size() <= s_.size() && iequals(s_.substr(pos_, keyword.size()), keyword)) {
            const std::size_t after = pos_ + keyword.size();
            if (after == s_.size() || s_[after] == ' ' || s_[after] == '(') {
                pos_ = after;
                return true;
            }
        }
        pos_ = saved;
        return false;
    }

    std::string_view s_;
    std::size_t pos_ = 0;
};

}  // namespace

std::string parse_error::describe() const { return message + " at position " + std::to_string(position); }

bool parse_attribute_path(std::string_view word, schema::attribute_path& out) {
    out = {};
    std::string_view rest = word;
    // A schema URN prefix ends at the last ':' (URNs themselves contain ':' and '.', e.g. "2.0").
    if (word.size() > 4 && iequals(word.substr(0, 4), "urn:")) {
        const auto colon = word.rfind(':');
        out.schema_urn = std::string(word.substr(0, colon));
        rest = word.substr(colon + 1);
    }
    const auto dot = rest.find('.');
    const auto attribute = rest.substr(0, dot);
    if (!is_attr_name(attribute)) return false;
    out.attribute = std::string(attribute);
    if (dot != std::string_view::npos) {
        const auto sub = rest.substr(dot + 1);
        if (!is_attr_name(sub)) return false;
        out.sub_attribute = std::string(sub);
    }
    return true;
}

filter_parse_result parse_filter(std::string_view text) {
    filter_parse_result result;
    if (text.find_first_not_of(' ') == std::string_view::npos) {
        result.error = {0, "the filter is empty"};
        return result;
    }
    try {
        parser p(text);
        result.filter = p.parse_whole();
    } catch (const failure& f) {
        result.error = f.error;
    }
    return result;
}

patch_path_result parse_patch_path(std::string_view text) {
    patch_path_result result;
    try {
        parser p(text);
        patch_path out;
        out.path = p.parse_path();
        if (p.current() == '[') {
            if (!out.path.sub_attribute.empty()) p.fail("a value filter applies to a whole attribute, not a sub-attribute");
            p.advance();
            out.value_filter = p.parse_or(1, true);
            p.skip_spaces();
            if (p.current() != ']') p.fail(p.at_end() ? "unbalanced '['" : "expected ']'");
            p.advance();
            if (p.current() == '.') {
                p.advance();
                const std::size_t start = p.position();
                std::string sub;
                while (!p.at_end() && p.current() != ' ') {
                    sub += p.current();
                    p.advance();
                }
                if (!is_attr_name(sub)) p.fail_at(start, "expected a sub-attribute name after '].'");
                out.sub_attribute_after = sub;
            }
        }
        if (!p.at_end()) p.fail("unexpected text after the path");
        result.path = std::move(out);
    } catch (const failure& f) {
        result.error = f.error;
    }
    return result;
}

}  // namespace idgate::scim
