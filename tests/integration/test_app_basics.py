def test_healthz_answers_alive(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_readyz_reports_database_and_redis(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_is_503_when_redis_is_down(app, client):
    import redis

    app.extensions["tongxing"].redis = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"].startswith("error")


def test_language_switch_keeps_the_page_parameters(client):
    page = client.get("/login?tab=sms&next=/account").get_data(as_text=True)
    assert 'href="/login?tab=sms&amp;next=%2Faccount&amp;lang=en"' in page
    english = client.get("/login?tab=sms&lang=en").get_data(as_text=True)
    assert "SMS code" in english and 'lang="en"' in english


def test_csrf_refusal_speaks_the_chosen_language(client):
    response = client.post("/login?lang=en", data={"username": "x", "password": "y"})
    assert response.status_code == 400
    assert "The page has expired" in response.get_data(as_text=True)
