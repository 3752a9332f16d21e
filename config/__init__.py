"""The composition root: settings, the root URLconf and the WSGI/ASGI entry points. It sits
above every module and nothing imports it."""
