# The one entry point. `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
MANAGE := $(BIN)/python manage.py
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: demo test lint format bench messages install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable ".[dev]"
	touch $(STAMP)

install: $(STAMP)

messages: $(STAMP)
	$(MANAGE) compilemessages --ignore=.venv -v0

# The address in the links of demo e-mails: `make demo PORT=8001` must not
# send people to port 8000. Seeding queues e-mails too, so it gets it as well.
DEMO_URL = http://$(HOST):$(PORT)

# Runs the portal and one task worker together on the embedded SQLite
# database; Ctrl-C stops both. Demo e-mails land in var/mail/, one .eml file
# each (mail.backends).
demo: messages
	mkdir -p var var/mailroom/inbox/new var/mailroom/inbox/cur var/mailroom/inbox/tmp
	$(MANAGE) migrate --noinput -v0
	GENOPORTAL_SITE_URL=$(DEMO_URL) $(MANAGE) seed_demo
	@echo "Portal: $(DEMO_URL)/  –  e-mails: var/mail/ (one .eml file each)  –  Ctrl-C stops"
	@echo "Mail to the office: put an .eml file into var/mailroom/inbox/new/ (read every 10 s)"
	@export GENOPORTAL_SITE_URL=$(DEMO_URL); export GENOPORTAL_MAIL_REPLY_TO=service@wg-beispiel.example; trap 'kill 0' INT TERM EXIT; \
	  $(MANAGE) db_worker --interval 1 & \
	  while true; do $(MANAGE) fetch_mail --maildir var/mailroom/inbox --mailbox demo >/dev/null; \
	    sleep 10; done & \
	  while true; do $(MANAGE) routing_escalate -v0; $(MANAGE) mail_retry -v0 >/dev/null; \
	    $(MANAGE) drafts_expire -v0; $(MANAGE) appointments_remind -v0; \
	    $(MANAGE) incidents_detect -v0; $(MANAGE) privacy_exports_expire -v0; sleep 60; done & \
	  $(MANAGE) runserver $(HOST):$(PORT)

# The whole suite on SQLite, then on PostgreSQL (TEST_DATABASE_URL, default
# postgres://postgres@127.0.0.1:5432/genoportal). With CI=true a missing
# PostgreSQL or browser fails the run instead of being skipped.
test: messages
	$(BIN)/python scripts/run_tests.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/ruff format --check .
	$(MANAGE) makemigrations --check --dry-run
	DJANGO_DEBUG=false DJANGO_SECRET_KEY=check-deploy-$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
	  DJANGO_ALLOWED_HOSTS=portal.example.org $(MANAGE) check --deploy --fail-level WARNING

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Then the rig (bench/rig.py): gunicorn + wrk at 100,000 and 1,000,000
# requests, each on SQLite and on PostgreSQL (TEST_DATABASE_URL's server,
# database genoportal_bench); one table per database and scale, JSON in
# var/bench/. `make bench BENCH_SCALES=100k` for the quicker half (~10 min).
BENCH_SCALES ?= 100k 1m
# The overview (bench/insights.py): 100,000 requests on SQLite, 1,000,000 on
# PostgreSQL (issue 14's target; the seeding takes most of its ~15 min).
INSIGHTS_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/genoportal_bench_insights
# A member's data export (bench/privacy_export.py): 500 requests with a
# 200 KB file each, on SQLite and on PostgreSQL.
PRIVACY_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/genoportal_bench_privacy
# Documents (bench/documents.py): 5,000 statements checked and published,
# on SQLite and on PostgreSQL (issue 15's target: under 60 s).
DOCUMENTS_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/genoportal_bench_documents
# The lists that grow with time (bench/notices_incidents.py): three years of
# notices and incidents over 100,000 requests, on SQLite and on PostgreSQL.
LISTS_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/genoportal_bench_lists
bench: messages
	$(BIN)/python bench/import_master_data.py
	$(BIN)/python bench/decide.py
	$(BIN)/python bench/appointment_slots.py
	$(BIN)/python bench/appointments_db.py
	$(BIN)/python bench/rooms.py
	$(BIN)/python bench/certificates.py
	$(BIN)/python bench/insights.py
	$(BIN)/python bench/insights.py --database-url $(INSIGHTS_DATABASE_URL)
	$(BIN)/python bench/notices_incidents.py
	$(BIN)/python bench/notices_incidents.py --database-url $(LISTS_DATABASE_URL)
	$(BIN)/python bench/member_pages.py
	$(BIN)/python bench/privacy_export.py
	$(BIN)/python bench/privacy_export.py --database-url $(PRIVACY_DATABASE_URL)
	$(BIN)/python bench/mail_ingest.py
	$(BIN)/python bench/documents.py
	$(BIN)/python bench/documents.py --database-url $(DOCUMENTS_DATABASE_URL)
	for scale in $(BENCH_SCALES); do $(BIN)/python bench/rig.py --scale $$scale || exit 1; done

clean:
	rm -rf var/genoportal.sqlite3* var/mail
