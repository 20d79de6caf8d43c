"""The web app's routes, one ``APIRouter`` per resource: the API's ``users`` (who am I),
``steps`` (the SOP's steps, recording them, the inbox of waiting steps), ``items``,
``alerts`` and ``reports``, and ``desk``, the pages people work in."""
