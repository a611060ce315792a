#pragma once
// Errors the library reports; the CLI turns them into one-line messages and exit code 2.
#include <stdexcept>
#include <string>

namespace xsave {

// A problem with the input (buffer, profile, text): the message is one line and names
// the offset or field at fault. The CLI prefixes it with the file name.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A conversion refused because it would drop in-use state; the message names the state and
// the option that allows it.
class LossError : public Error {
public:
    using Error::Error;
};

} // namespace xsave
