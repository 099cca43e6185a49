"""``digicomp serve``: the assessment service (FastAPI; optional extra ``serve``): a REST API under ``/api/v1``, a
server-rendered test-taker page, live sessions in the response store, authentication for administrators.

The top floor of the package: nothing else imports it. Importing this package is light; the FastAPI application is
built by :func:`digicomp.service.app.create_app` (which needs ``pip install digicomp[serve]``).
"""
