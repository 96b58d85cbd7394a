#pragma once
// Errors are values inside healthgate: a parser returns Expected<T>, holding
// either the value or one human-readable line naming the problem.
#include <string>
#include <utility>
#include <variant>

namespace healthgate {

struct Error {
    std::string message;
};

template <typename T>
class Expected {
public:
    Expected(T value) : data_(std::move(value)) {}
    Expected(Error error) : data_(std::move(error)) {}

    bool ok() const { return std::holds_alternative<T>(data_); }
    explicit operator bool() const { return ok(); }
    T& value() { return std::get<T>(data_); }
    const T& value() const { return std::get<T>(data_); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    const std::string& error() const { return std::get<Error>(data_).message; }

private:
    std::variant<T, Error> data_;
};

inline Error make_error(std::string message) { return Error{std::move(message)}; }

}  // namespace healthgate
