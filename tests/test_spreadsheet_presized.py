"""``Presized``: ``list()`` of an iterator said to give ``n`` items is the iterator's list, however many it gives."""

from __future__ import annotations

import sys

from connector.sources.spreadsheet.presized import Presized


def test_the_list_is_the_iterators_whatever_the_length_said() -> None:
    for said in (0, 3, 5, 8, 1000):
        assert list(Presized(map(str, range(5)), said)) == ["0", "1", "2", "3", "4"]
    assert list(Presized(iter(()), 10)) == []


def test_a_list_of_the_length_said_is_allocated_once_at_its_size() -> None:
    grown = list(map(int, range(100_000)))
    sized = list(Presized(map(int, range(100_000)), 100_000))
    assert sized == grown
    assert sys.getsizeof(sized) <= sys.getsizeof(grown)  # (a grown list keeps room for more)
