"""The Django test client speaking JSON to /api/v1/ with a bearer token, shared by the API tests."""

import json

from django.test import Client

from kehu.users.services import api_token_create

API = "/api/v1"


class ApiClient:
    def __init__(self, user):
        self.client = Client()
        _token, secret = api_token_create(actor=user, name="tests")
        self.headers = {"Authorization": f"Bearer {secret}"}

    def get(self, path, params=None):
        return self.client.get(API + path, params or {}, headers=self.headers)

    def post(self, path, body=None, *, raw=None):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(API + path, data, content_type="application/json", headers=self.headers)

    def patch(self, path, body, *, raw=None):
        data = raw if raw is not None else json.dumps(body)
        return self.client.patch(API + path, data, content_type="application/json", headers=self.headers)

    def put(self, path, body):
        return self.client.put(
            API + path, json.dumps(body), content_type="application/json", headers=self.headers
        )

    def delete(self, path):
        return self.client.delete(API + path, headers=self.headers)
