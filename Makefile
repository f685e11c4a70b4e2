# The two commands a newcomer needs:
#   make demo   set up, then run the Fashion-MNIST demo and print its table
#   make test   set up, then run the test suite
.PHONY: setup data demo test
PY := .venv/bin/python

setup:
	bash tools/setup_env.sh

data:
	bash tools/setup_env.sh --data

demo: data
	$(PY) -m demo.fashion_mnist --quick

test: data
	$(PY) -m pytest -q tests
