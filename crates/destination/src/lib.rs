//! Load: destination traits, capabilities, errors and the shared SQL layer.
