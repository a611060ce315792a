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

// Runs f; an Error it throws comes out as "NAME: message" (unchanged when it already names
// NAME), so every message says which file or profile it is about.
template <class F> decltype(auto) naming(const std::string& name, F&& f) {
    try {
        return f();
    } catch (const LossError& e) {
        std::string msg = e.what();
        if (msg.starts_with(name + ":")) throw;
        throw LossError(name + ": " + msg);
    } catch (const Error& e) {
        std::string msg = e.what();
        if (msg.starts_with(name + ":")) throw;
        throw Error(name + ": " + msg);
    }
}

} // namespace xsave
