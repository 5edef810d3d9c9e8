"""The posting lane holds back the live news of a batch until it has handed the event
loop the batch's answers, so that a post is answered before thousands of streams wake."""

from __future__ import annotations

import asyncio
import threading

from rostra.api.live import LiveHub


def test_a_posts_answer_goes_before_the_streams_wake() -> None:
    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        hub = LiveHub()
        hub.loop = loop
        queues = [hub.subscribe("news", "/story") for _ in range(3)]
        order: list[str] = []
        answered = loop.create_future()

        async def stream(i: int) -> None:
            await queues[i].get()
            order.append(f"stream {i}")

        async def poster() -> None:
            await answered
            order.append("answer")

        tasks = [loop.create_task(stream(i)) for i in range(3)]
        tasks.append(loop.create_task(poster()))
        await asyncio.sleep(0)

        def lane() -> None:  # as the posting lane does: news while storing, then answers
            hub.hold()
            hub.publish("news", "/story", {"thread": "/story", "comment": {"id": 1}})
            loop.call_soon_threadsafe(answered.set_result, None)
            hub.release()

        threading.Thread(target=lane).start()
        await asyncio.wait_for(asyncio.gather(*tasks), 5)
        return order

    order = asyncio.run(main())
    assert order[0] == "answer" and sorted(order[1:]) == ["stream 0", "stream 1", "stream 2"]


def test_news_from_elsewhere_goes_out_at_once() -> None:
    async def main() -> bytes:
        loop = asyncio.get_running_loop()
        hub = LiveHub()
        hub.loop = loop
        queue = hub.subscribe("news", "/story")
        threading.Thread(target=hub.publish, args=(
            "news", "/story", {"thread": "/story"})).start()
        return await asyncio.wait_for(queue.get(), 5)

    assert asyncio.run(main()) == b'event: changed\ndata: {"thread":"/story"}\n\n'
