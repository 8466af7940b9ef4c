package facebook

// OnPoll makes p tell f about every finished poll (tests wait on it).
func OnPoll(p *Page, f func(error)) { p.polled = f }
