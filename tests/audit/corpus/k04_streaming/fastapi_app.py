from fastapi import FastAPI
from fastapi.responses import FileResponse, StreamingResponse

app = FastAPI()


def lines():
    yield "a\n"


@app.get("/file")
async def file():
    return FileResponse("/srv/report.pdf")  # control


@app.get("/stream")
async def stream():
    return StreamingResponse(lines())  # control
