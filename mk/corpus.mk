# The bad-input corpus (tests/corpus): every case through ansible-playbook, refused with
# exactly its codes, no traceback, nothing written. Part of `make test`.
TEST_SUITES += corpus
.PHONY: corpus

corpus: venv
	pytest $(PYTEST_FLAGS) tests/corpus
