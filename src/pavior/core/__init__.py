"""Pure domain rules of Pavior: no Django, no ORM, stdlib only."""
