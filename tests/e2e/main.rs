//! End-to-end tests: run the real `expo` binary on temporary stores.
